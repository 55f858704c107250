//! Git history as a scan source, read in-process with gix (no `git` process).
//!
//! Semantics (gitleaks-compatible, plus merge resolutions):
//! * a finding is a secret on a line a commit **adds** relative to its first parent (the `+`
//!   lines of `git log -p -U0 --full-history --all --diff-filter=tuxdb`); each `-U0` hunk is one
//!   [`Fragment`](crate::detect::Fragment) whose `start_line` is the hunk's new start line;
//! * root commits (and commits at a shallow boundary) add every line of every file;
//! * a merge commit adds the lines that are in **none** of its parents (conflict resolutions,
//!   evil merges) — gitleaks scans no merge patches and misses these;
//! * `File` is the new path (renames followed with git's 50 % similarity rule); deleted files,
//!   100 % renames and submodule (gitlink) entries are not scanned; symlinks are scanned as
//!   their target text, as `git log -p` shows it; a type change (file ↔ symlink) counts as a
//!   new file;
//! * blob content gets the treatment files on disk get ([`crate::source::content`]): binary
//!   formats are scanned through their printable view (line-diffed like text), archives are
//!   opened to `max_archive_depth` under the same bomb bounds (members named `path!member`;
//!   findings an old version of the archive already had are not new), and path-only rules see
//!   every added path, also of content that is not scanned; Git LFS pointers (content outside
//!   the repository) get only the path check; blobs over `max_target_megabytes`, encrypted
//!   members and archives nested too deep are listed in [`GitScanReport::incomplete`]; every
//!   kind is counted in [`GitScanStats`];
//! * a missing or corrupt object is listed in [`GitScanReport::errors`] with its id, path and
//!   commit; the scan goes on (and the CLI exits 2).
//!
//! Engine: commits are walked with gix; their tree diffs run in parallel (rayon, one
//! thread-local repository per thread; on large scans trees come from an in-memory store of
//! the packs' inflated tree entries, `trees.rs`); changes are grouped by `(old blobs, new
//! blob)` and each distinct new blob is classified and prefiltered once
//! ([`FragmentScanner::might_find`](crate::source::FragmentScanner::might_find)), on large scans in one delta-order pass over the packs
//! (`packs.rs`); only candidates get a line diff and a detector pass per added hunk, and the
//! findings are mapped to every commit that introduces the change.

mod changes;
mod content;
mod diff_error;
mod engine;
mod error;
mod lines;
mod meta;
mod packs;
pub(crate) mod phase;
mod resident;
mod revs;
#[cfg(test)]
mod scan_tests;
mod stream;
mod trees;
mod tuning;
mod walk;
mod worktree;

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers of the unit tests (shared with the pack crate's).
    pub(crate) use portcullis_pack::testing::git;
}

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use error::GitError;
pub use tuning::{GitTuning, PackPasses, PhaseTiming};

use crate::report::finding::Finding;
use crate::source::FragmentScanner;

/// Scan the history (or index / work tree) of the repository at `repo` with the detector.
pub fn scan_history(
    repo: &Path,
    detector: &crate::detect::Detector,
    opts: &GitScanOptions,
) -> Result<GitScanReport, GitError> {
    scan_history_with(repo, detector, opts)
}

/// Options of a history, index or work-tree scan.
#[derive(Debug, Clone)]
pub struct GitScanOptions {
    /// Revisions and ranges (`A..B`, `A...B`, `rev`, `^rev`; an entry may hold several,
    /// whitespace-separated). Empty = every ref (`git log --all`, `refs/stash` included).
    pub revs: Vec<String>,
    /// One finding per (rule, secret, file): the earliest commit, with `CommitCount`.
    pub dedup: bool,
    /// Do not scan blobs larger than this many megabytes (0 = no limit, as in gitleaks); each
    /// blob not scanned makes the scan incomplete ([`GitScanReport::incomplete`]).
    pub max_target_megabytes: Option<u64>,
    /// Open archives (zip, tar, gzip) in blobs up to this nesting depth (0 = do not open).
    pub max_archive_depth: u32,
    /// Decompression-bomb bounds of the archives opened.
    pub archive_limits: crate::source::archive::ArchiveLimits,
    /// Draw a progress bar on stderr (only when it is a terminal; it appears after 200 ms).
    pub progress: bool,
    /// Scan the index against `HEAD` instead of history (pre-commit hooks).
    pub staged: bool,
    /// Scan the work tree (tracked files) against `HEAD` instead of history.
    pub uncommitted: bool,
    /// Only commits not reachable from this revision (`REV..HEAD`, or `^REV` added to `revs`).
    pub since_commit: Option<String>,
    /// Without `max_target_megabytes`: blobs larger than this many bytes (by the size in their
    /// object header) are not inflated whole but streamed and scanned in chunks, with every
    /// line counted as added (no line diff, like git above `core.bigFileThreshold`). `None` =
    /// never stream. Default [`DEFAULT_STREAM_ABOVE_BYTES`].
    pub stream_above_bytes: Option<u64>,
    /// Worker threads of the scan's own thread pool (0 = one per core).
    pub threads: usize,
    /// Set to `true` (from any thread) to stop the scan: it then ends with
    /// [`GitError::Interrupted`] (an interrupted scan is incomplete, never a clean result).
    /// Checked between jobs and between phases.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Cache sizes, memory budgets and pass choices.
    pub tuning: GitTuning,
}

impl Default for GitScanOptions {
    fn default() -> Self {
        GitScanOptions {
            revs: Vec::new(),
            dedup: false,
            max_target_megabytes: None,
            max_archive_depth: DEFAULT_MAX_ARCHIVE_DEPTH,
            archive_limits: crate::source::archive::ArchiveLimits::default(),
            progress: false,
            staged: false,
            uncommitted: false,
            since_commit: None,
            stream_above_bytes: Some(DEFAULT_STREAM_ABOVE_BYTES),
            threads: 0,
            interrupt: None,
            tuning: GitTuning::default(),
        }
    }
}

/// Blobs above this size are streamed when no size limit is set (64 MiB).
pub const DEFAULT_STREAM_ABOVE_BYTES: u64 = 64 << 20;

/// Archive nesting depth opened by default (the `scan` commands' `--max-archive-depth`).
pub const DEFAULT_MAX_ARCHIVE_DEPTH: u32 = 2;

/// Counters describing what a scan read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitScanStats {
    /// File changes found by the tree diffs (one per commit and path).
    pub changes: u64,
    /// Distinct `(old blobs, new blob)` pairs among them (each processed once).
    pub distinct_changes: u64,
    /// Blobs read and prefiltered.
    pub blobs_read: u64,
    /// Distinct blobs classified and prefiltered by the delta-order pass over the pack files
    /// (each pack entry inflated once); the others were read by id.
    pub blobs_in_delta_order: u64,
    /// Blobs the prefilter passed on to line diff and full detection.
    pub candidates: u64,
    /// Blobs in a binary format, scanned through their printable view.
    pub binary_scanned: u64,
    /// Archive blobs opened by the shared content pipeline.
    pub archives_scanned: u64,
    /// Archive members scanned (nested members included).
    pub archive_members_scanned: u64,
    /// Git LFS pointer files skipped (their content is not in the repository).
    pub lfs_pointers_skipped: u64,
    /// Blobs over `max_target_megabytes` skipped.
    pub oversize_skipped: u64,
    /// Submodule (gitlink) entries skipped.
    pub submodules_skipped: u64,
    /// Blobs above `stream_above_bytes` scanned as a stream, chunk by chunk (no line diff).
    pub blobs_streamed: u64,
}

/// The result of a git scan.
#[derive(Debug, Clone, Default)]
pub struct GitScanReport {
    /// Findings (deduplicated when requested), newest commit first.
    pub findings: Vec<Finding>,
    /// Objects that could not be read and other problems met on the way, each naming its
    /// object, path and commit in typed fields and rendering as a one-line message: the scan
    /// is incomplete.
    pub errors: Vec<crate::source::ScanError>,
    /// Commits walked.
    pub commits_scanned: u64,
    /// Bytes of blob content read and prefiltered.
    pub bytes_scanned: u64,
    /// Things the user should know (shallow boundary, LFS pointers, odd refs).
    pub warnings: Vec<String>,
    /// Content that was not scanned, one line each naming what and why (blobs over
    /// `max_target_megabytes`, encrypted archive members, archives nested deeper than
    /// `max_archive_depth`). Not empty = the secrets scan is incomplete: callers must treat
    /// it as failed, like an error.
    pub incomplete: Vec<String>,
    /// What was read and skipped.
    pub stats: GitScanStats,
    /// How long each phase took, in the order they ran.
    pub timings: Vec<PhaseTiming>,
}

/// [`scan_history`] with any [`FragmentScanner`].
///
/// The scan runs as a sequence of phases ([`phase`]), each timed in
/// [`GitScanReport::timings`]: select the commits, open a pack session, walk the commits, diff
/// their trees, settle the distinct new blobs, run the jobs, finish the report. Everything runs
/// on a thread pool of its own with `opts.threads` threads.
pub fn scan_history_with<S: FragmentScanner + ?Sized>(
    path: &Path,
    scanner: &S,
    opts: &GitScanOptions,
) -> Result<GitScanReport, GitError> {
    phase::select_commits::check_options(opts)?;
    let setup = phase::Setup::new(path, opts)?;
    let mut repo = revs::open(path)?;
    repo.object_cache_size_if_unset(16 << 20);
    let progress = crate::source::progress::Progress::new(opts.progress);
    if opts.staged || opts.uncommitted {
        return scan_index_or_worktree(repo, scanner, opts, &setup, &progress);
    }
    let mut report = GitScanReport::default();
    let mut clock = phase::Clock::start();

    let sel = phase::select_commits::select_commits(
        &repo,
        path,
        opts,
        &mut report.warnings,
        &mut report.errors,
    )?;
    clock.lap("select commits", String::new());
    setup.check_interrupt("select commits")?;

    // Stops its page limiter before it unmaps the packs, whenever it is dropped.
    let session = phase::pack_session::PackSession::open(&repo, &setup.tuning);
    let walked = phase::walk_commits::walk_commits(
        &repo,
        &sel,
        &session,
        &setup,
        &mut clock,
        &mut report.warnings,
    )?;
    report.commits_scanned = walked.commits.len() as u64;
    setup.check_interrupt("walk")?;

    let ts = repo.into_sync();
    progress.plan(&["commits", "blobs", "files"]);
    progress.phase("commits", walked.commits.len() as u64);
    let (diffed, commits) =
        phase::diff_trees::diff_trees(&ts, walked, &setup, &progress, &mut clock)?;
    report.errors.extend(diffed.errors);
    report.stats.submodules_skipped = diffed.submodules_skipped;
    report.stats.changes = diffed.changes.len() as u64;
    setup.check_interrupt("tree diffs")?;

    let settled = phase::settle_blobs::settle_blobs(
        &ts,
        diffed.changes,
        &session,
        scanner,
        &setup,
        &progress,
        &mut clock,
    )?;
    report.stats.blobs_in_delta_order = settled.pass.verdicts.len() as u64;
    setup.check_interrupt("settle blobs")?;

    let out = phase::run_jobs::run_jobs(
        &ts,
        &settled.jobs,
        &commits,
        &settled.pass,
        scanner,
        &setup,
        &progress,
    )?;
    let releases = session.close();
    clock.lap(
        "jobs",
        format!(
            "{} jobs, {} candidates; {}; pack pages released {releases}x; {} pack entries refused by the decoder; {} commits diffed again for renames in {:?}",
            settled.jobs.len(),
            out.counts.candidates,
            phase::memory(),
            packs::REFUSED.load(std::sync::atomic::Ordering::Relaxed),
            out.rename_diffs.0,
            out.rename_diffs.1
        ),
    );
    drop(settled);

    phase::finish::finish(
        &mut report,
        out,
        &commits,
        &ts.to_thread_local(),
        opts.dedup,
        setup.max_bytes,
    );
    clock.lap("finish", format!("{} findings", report.findings.len()));
    report.timings = clock.into_timings();
    Ok(report)
}

/// `--staged` / `--uncommitted`: the index or the work tree against `HEAD`, as jobs without
/// commits.
fn scan_index_or_worktree<S: FragmentScanner + ?Sized>(
    repo: gix::Repository,
    scanner: &S,
    opts: &GitScanOptions,
    setup: &phase::Setup<'_>,
    progress: &crate::source::progress::Progress,
) -> Result<GitScanReport, GitError> {
    let mut report = GitScanReport::default();
    let mut clock = phase::Clock::start();
    let jobs = if opts.staged {
        worktree::staged_jobs(&repo, setup.path, &mut report.warnings)?
    } else {
        worktree::uncommitted_jobs(&repo, setup.path, &mut report.errors)?
    };
    report.stats.changes = jobs.len() as u64;
    let ts = repo.into_sync();
    progress.plan(&["files"]);
    let out = phase::run_jobs::run_jobs(
        &ts,
        &jobs,
        &[],
        &packs::PassOutcome::default(),
        scanner,
        setup,
        progress,
    )?;
    clock.lap("files", format!("{} jobs", jobs.len()));
    phase::finish::absorb(&mut report, out, setup.max_bytes);
    report
        .findings
        .sort_by(crate::report::finding::report_order);
    report.timings = clock.into_timings();
    Ok(report)
}

/// Resolve a revision (branch, tag, `HEAD~3`, abbreviated id, …) of the repository at `repo`
/// to the full hex id of the commit it names.
pub fn resolve_rev(repo: &Path, rev: &str) -> Result<String, GitError> {
    let r = revs::open(repo)?;
    Ok(revs::resolve_one(&r, repo, rev)?.to_string())
}

/// The best merge base of revisions `a` and `b` of the repository at `repo`, as full hex id.
pub fn merge_base(repo: &Path, a: &str, b: &str) -> Result<String, GitError> {
    let r = revs::open(repo)?;
    let ia = revs::resolve_one(&r, repo, a)?;
    let ib = revs::resolve_one(&r, repo, b)?;
    match r.merge_base(ia, ib) {
        Ok(Some(id)) => Ok(id.to_string()),
        Ok(None) => Err(GitError::NoMergeBase {
            repo: repo.to_path_buf(),
            a: a.into(),
            b: b.into(),
            why: match r.shallow_commits() {
                Ok(Some(list)) if !list.is_empty() => format!(
                    ": the clone is shallow ({} boundary commit(s)) and the common ancestor lies \
                     beyond its boundary; fetch more history (git fetch --unshallow, or \
                     --deepen=N)",
                    list.len()
                ),
                _ => ": the histories are unrelated".into(),
            },
        }),
        Err(e) => Err(GitError::Walk {
            repo: repo.to_path_buf(),
            message: format!("merge base of {a} and {b}: {e}"),
        }),
    }
}
