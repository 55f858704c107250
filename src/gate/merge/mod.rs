//! The merge gate: catch a task branch up to `REMOTE/MAIN`, re-test the combined tree, and
//! serialise merges per repository under the crash-safe [`crate::lease`].
//!
//! Steps of [`merge`] (each a function in `steps`):
//!
//! 1. Refuse protected targets (main, `master`, the remote's default branch, settings
//!    `protected_refs`) before anything happens: FAIL `protected_ref`.
//! 2. `git fetch` main (and the branch, if the remote has it) from the remote; again once
//!    the lease is held, so testing starts from the current main.
//! 3. Acquire the repository's lease, keyed by the remote's normalised URL and bound to this
//!    process. Busy → DEFER (`holder`, `held_since`, `retry_after_s` with jitter); nothing
//!    changed, nothing held. Processes a killed gate left running are ended first (they keep
//!    its lease from going stale), and those of a predecessor whose lease expired right
//!    after acquiring, before anything touches the worktree.
//! 4. Find the branch's linked worktree (or create one). A rebase (or, in the gate's own
//!    worktree, a merge/cherry-pick/revert) that an interrupted gate run left is aborted,
//!    and the gate's own worktree is reset or moved aside when an interrupted run left it
//!    dirty or in the way (see `recover`); otherwise the worktree must be clean.
//! 5. Behind check: if `REMOTE/MAIN` is not an ancestor of the branch, rebase the branch onto
//!    it in that worktree. A conflict is aborted (the worktree is left clean) → FAIL
//!    `conflict` with the conflicting files.
//! 6. Run the test command in the worktree with a timeout, renewing the lease meanwhile;
//!    keep the output tail with secrets redacted by the detection engine, or omitted if the
//!    engine is unavailable (FAIL `tests_failed` / `test_timeout`). HEAD must still name the
//!    branch at the tested commit afterwards, and no tracked file may have changed.
//! 7. If the remote branch differs from the tested commit, push only `refs/heads/BRANCH`
//!    with `--force-with-lease=refs/heads/BRANCH:<sha the gate saw>`; rejected → FAIL
//!    `push_rejected`.
//! 8. PASS with `base_sha`, `tested_sha`, `fencing_token`; the lease stays held (unbound from
//!    this process, TTL `lease_ttl_s`) until the pipeline merges and releases it.
//!
//! Every child (git, the test command) leads its own process group, gets SIGKILL when the
//! gate dies, and has its whole group killed on every way out (see `proc`); the groups that
//! touch the worktree are recorded next to the lease while they run.
//!
//! On FAIL the lease is released (except `lease_lost`: it is no longer ours). Every error and
//! any panic becomes a verdict. The report (Markdown + YAML frontmatter, schema
//! `portcullis/merge-report/v1`) is written with [`crate::report::frontmatter::write_report`] and the returned verdict is
//! read back from the file with [`read_verdict`].

pub(crate) mod git;
mod gitops;
mod proc;
mod protect;
mod recover;
mod redact;
mod report;
pub mod security_first;
mod steps;
mod testrun;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::lease::{self, LeaseLocation, LeaseRecord};
use crate::report::{Verdict, read_verdict};

use proc::GroupRecorder;
use report::MergeFrontmatter;
use steps::Start;

pub use security_first::SecurityCheck;

/// Default report file name, relative to the repository.
pub const DEFAULT_REPORT_FILE: &str = "merge-report.md";

/// One merge gate run.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRequest {
    /// The repository (any of its worktrees).
    pub repo: PathBuf,
    /// The task branch to catch up, test and push.
    pub branch: String,
    /// The main branch on the remote (default `main`).
    pub main: String,
    /// The remote (default `origin`).
    pub remote: String,
    /// Test command run by `sh -c` in the worktree (default: settings `test_command`).
    pub test_command: Option<String>,
    /// Test timeout (default: settings `test_timeout_s`).
    pub test_timeout: Option<Duration>,
    /// The branch's worktree (default: the worktree that has it checked out, else a new one
    /// under `<git-common-dir>/portcullis/worktrees/`).
    pub worktree: Option<PathBuf>,
    /// Lease directory (default: settings `lease_dir`, else [`lease::default_lease_dir`]).
    pub lease_dir: Option<PathBuf>,
    /// PostgreSQL lease database URL (overrides `lease_dir`; default: settings `lease_url`
    /// / `PORTCULLIS_LEASE_URL`); see [`lease::LeaseBackend::choose`].
    pub lease_url: Option<String>,
    /// Lease holder id (default `merge-gate:<branch>@<host>`).
    pub holder: Option<String>,
    /// Report file (default `<repo>/merge-report.md`).
    pub report_file: Option<PathBuf>,
    /// Settings file (default `<repo>/portcullis.toml` if present).
    pub settings_file: Option<PathBuf>,
    /// Lease TTL (default: settings `lease_ttl_s`).
    pub lease_ttl: Option<Duration>,
    /// How the branch's security verdict is settled before anything changes (default: run
    /// the security gate on the branch head).
    pub security: SecurityCheck,
}

impl MergeRequest {
    /// A request with defaults for everything but the repository and branch.
    pub fn new(repo: impl Into<PathBuf>, branch: impl Into<String>) -> MergeRequest {
        let repo: PathBuf = repo.into();
        MergeRequest {
            security: SecurityCheck::run_default(&repo),
            repo,
            branch: branch.into(),
            main: "main".into(),
            remote: "origin".into(),
            test_command: None,
            test_timeout: None,
            worktree: None,
            lease_dir: None,
            lease_url: None,
            holder: None,
            report_file: None,
            settings_file: None,
            lease_ttl: None,
        }
    }

    /// Where the report of this request is written.
    pub fn report_path(&self) -> PathBuf {
        self.report_file
            .clone()
            .unwrap_or_else(|| self.repo.join(DEFAULT_REPORT_FILE))
    }
}

/// A FAIL with its reason code and one explanatory line.
#[derive(Debug)]
pub(crate) struct Failure {
    reason: &'static str,
    message: String,
}

pub(crate) fn fail(reason: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        reason,
        message: message.into(),
    }
}

pub(crate) fn git_err(message: impl Into<String>) -> Failure {
    fail("git_error", message)
}

/// How the run ended before the report is written.
enum End {
    Pass,
    Defer,
    Skipped(String),
}

/// The lease while this run holds it.
pub(crate) struct Held {
    loc: LeaseLocation,
    record: LeaseRecord,
    ttl: Duration,
}

impl Held {
    /// Records the process groups this run starts next to its lease.
    fn recorder(&self) -> GroupRecorder {
        GroupRecorder {
            loc: self.loc.clone(),
            holder: self.record.holder.clone(),
            nonce: self.record.nonce.clone(),
        }
    }
}

/// Mutable run state (kept outside `catch_unwind` so a panic still releases the lease).
pub(crate) struct Run {
    fm: MergeFrontmatter,
    held: Option<Held>,
}

/// Run the merge gate, write its report and return the verdict read back from it.
///
/// Never panics and never returns an error: anything that goes wrong is a FAIL verdict.
///
/// ```no_run
/// use portcullis::gate::merge::{merge, MergeRequest};
/// let mut req = MergeRequest::new("/srv/repo", "task-42");
/// req.test_command = Some("cargo test".into());
/// let verdict = merge(&req);
/// println!("{} {:?}", verdict.outcome, verdict.reasons);
/// ```
pub fn merge(req: &MergeRequest) -> Verdict {
    let started = Instant::now();
    // A previous report must not outlive this run: remove it first (only a regular file;
    // anything else at the path is refused untouched), so a run that cannot write its own
    // report leaves no file, which reads as FAIL.
    if let Err(e) = crate::report::frontmatter::remove_stale(&req.report_path()) {
        return scrub_verdict(
            Verdict::fail(format!("merge gate: cannot replace the report: {e}")),
            &crate::report::redact::Redactor::default(),
        );
    }
    let mut run = Run {
        fm: MergeFrontmatter::new(
            req.repo.display().to_string(),
            req.remote.clone(),
            req.branch.clone(),
            req.main.clone(),
        ),
        held: None,
    };
    run.fm.started_at = now_string();
    let result = catch_unwind(AssertUnwindSafe(|| gate(req, &mut run)));
    let end = match result {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(fail(
                "internal_error",
                format!("internal error (panic): {what}"),
            ))
        }
    };
    match end {
        Ok(End::Pass) => {
            run.fm.verdict = "PASS";
            run.fm.lease_held = true;
        }
        Ok(End::Defer) => {
            run.fm.verdict = "DEFER";
            run.fm.lease_held = false;
        }
        Ok(End::Skipped(why)) => {
            run.fm.verdict = "PASS";
            run.fm.skipped = true;
            run.fm.reasons.push(why);
        }
        Err(f) => {
            run.fm.verdict = "FAIL";
            run.fm.reason = Some(f.reason);
            run.fm
                .reasons
                .insert(0, format!("{}: {}", f.reason, f.message));
            if f.reason != "lease_lost" {
                release_held(&mut run);
            }
            run.held = None;
            run.fm.lease_held = false;
        }
    }
    run.fm.finished_at = now_string();
    run.fm.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let path = req.report_path();
    let redactor = match report::write_scrubbed(&path, &run.fm) {
        Ok(r) => r,
        Err(e) => {
            release_held(&mut run);
            return scrub_verdict(
                Verdict::fail(format!("merge gate: cannot write report: {e}")),
                &crate::report::redact::Redactor::default(),
            );
        }
    };
    let verdict = read_verdict(&path);
    if !verdict.is_pass() {
        // The report does not say PASS after all: do not leave the lease held.
        release_held(&mut run);
    }
    scrub_verdict(verdict, &redactor)
}

/// The reasons of a verdict (printed by the CLI) through the report's redaction.
fn scrub_verdict(mut v: Verdict, redactor: &crate::report::redact::Redactor) -> Verdict {
    for r in &mut v.reasons {
        *r = crate::report::redact::scrub_line(redactor, r);
    }
    v
}

fn release_held(run: &mut Run) {
    if let Some(h) = run.held.take()
        && let Err(e) = lease::release(&h.loc, &h.record.holder, Some(&h.record.nonce))
    {
        run.fm
            .reasons
            .push(format!("could not release the lease: {e}"));
    }
}

fn now_string() -> String {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond())
        .unwrap_or(now)
        .to_string()
}

/// The gate's steps (see `steps`); every `?` is a FAIL with its reason.
fn gate(req: &MergeRequest, run: &mut Run) -> Result<End, Failure> {
    let plan = match steps::plan(req, run)? {
        Start::Go(plan) => plan,
        Start::Skip(why) => return Ok(End::Skipped(why)),
    };
    steps::check_names(&plan.repo_git, req)?;
    let protected = steps::protection(&plan, req)?;
    let (base, _) = steps::fetch_refs(&plan.repo_git, req)?;
    run.fm.base_sha = Some(base.clone());
    if !steps::take_lease(&plan, req, &base, run)? {
        return Ok(End::Defer);
    }
    let (base, seen) = steps::refetch(&plan.repo_git, req, run)?;
    let old = steps::resolve_branch(&plan.repo_git, req, seen.as_deref(), run)?;
    security_first::check(req, &plan.repo_git, &base, &old, &mut run.fm.security)?;
    let (wt, wt_git) = steps::prepare_worktree(&plan.repo_git, req, &old, run)?;
    let tested = steps::catch_up(&wt_git, req, &base, &old, run)?;
    steps::retest(&plan, req, &wt, &wt_git, &base, &tested, run)?;
    steps::push(
        &plan.repo_git,
        &protected,
        req,
        &tested,
        seen.as_deref(),
        run,
    )?;
    steps::hold_for_merge(req, &base, &tested, run)?;
    // `run.held` stays set: `merge` releases it only if the PASS report cannot be written
    // or read back as PASS; otherwise the lease outlives this process.
    Ok(End::Pass)
}

/// Add a recovery line to the report (`recovered` and the reasons).
pub(crate) fn note_recovered(run: &mut Run, line: String) {
    run.fm.recovered = Some(match run.fm.recovered.take() {
        Some(before) => format!("{before}; {line}"),
        None => line.clone(),
    });
    run.fm.reasons.push(line);
}

pub(crate) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
