//! The merge gate: catch a task branch up to `REMOTE/MAIN`, re-test the combined tree, and
//! serialise merges per repository under the crash-safe [`crate::lease`].
//!
//! Steps of [`merge`]:
//!
//! 1. Refuse protected targets (main, `master`, the remote's default branch, settings
//!    `protected_refs`) before anything happens: FAIL `protected_ref`.
//! 2. `git fetch` main (and the branch, if the remote has it) from the remote; again once
//!    the lease is held, so testing starts from the current main.
//! 3. Acquire the repository's lease, keyed by the remote's normalised URL and bound to this
//!    process. Busy → DEFER (`holder`, `held_since`, `retry_after_s` with jitter); nothing
//!    changed, nothing held.
//! 4. Find the branch's linked worktree (or create one). A rebase (or, in the gate's own
//!    worktree, a merge/cherry-pick/revert) that an interrupted gate run left is aborted
//!    (see `recover`); otherwise the worktree must be clean.
//! 5. Behind check: if `REMOTE/MAIN` is not an ancestor of the branch, rebase the branch onto
//!    it in that worktree. A conflict is aborted (the worktree is left clean) → FAIL
//!    `conflict` with the conflicting files.
//! 6. Run the test command in the worktree with a timeout that kills its process group,
//!    renewing the lease meanwhile; keep the output tail with secrets redacted by the
//!    detection engine, or omitted if the engine is unavailable (FAIL `tests_failed` /
//!    `test_timeout`).
//! 7. If the remote branch differs from the tested commit, push only `refs/heads/BRANCH`
//!    with `--force-with-lease=refs/heads/BRANCH:<sha the gate saw>`; rejected → FAIL
//!    `push_rejected`.
//! 8. PASS with `base_sha`, `tested_sha`, `fencing_token`; the lease stays held (unbound from
//!    this process, TTL `lease_ttl_s`) until the pipeline merges and releases it.
//!
//! On FAIL the lease is released (except `lease_lost`: it is no longer ours). Every error and
//! any panic becomes a verdict. The report (Markdown + YAML frontmatter, schema
//! `portcullis/merge-report/v1`) is written with [`write_report`] and the returned verdict is
//! read back from the file with [`read_verdict`].

mod git;
mod proc;
mod protect;
mod recover;
mod redact;
mod report;
mod steps;
mod testrun;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::lease::{
    self, AcquireOptions, Acquisition, Binding, LeaseLocation, LeaseRecord, ProcessBinding,
};
use crate::report::frontmatter::write_report;
use crate::report::{Verdict, read_verdict};
use crate::settings::Settings;

use git::Git;
use protect::{Protected, applies_to};
use report::{MergeFrontmatter, render_body};
use steps::{fetch_refs, find_or_create_worktree, push_branch, rebase};
use testrun::run_tests;

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
}

impl MergeRequest {
    /// A request with defaults for everything but the repository and branch.
    pub fn new(repo: impl Into<PathBuf>, branch: impl Into<String>) -> MergeRequest {
        MergeRequest {
            repo: repo.into(),
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

pub(crate) fn git_err(message: String) -> Failure {
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
/// let mut req = MergeRequest::new("/work/repo", "task-42");
/// req.test_command = Some("cargo test".into());
/// let verdict = merge(&req);
/// println!("{} {:?}", verdict.outcome, verdict.reasons);
/// ```
pub fn merge(req: &MergeRequest) -> Verdict {
    let started = Instant::now();
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
    let body = render_body(&run.fm);
    if let Err(e) = write_report(&path, &run.fm, &body) {
        release_held(&mut run);
        return Verdict::fail(format!("merge gate: cannot write report: {e}"));
    }
    let verdict = read_verdict(&path);
    if !verdict.is_pass() {
        // The report does not say PASS after all: do not leave the lease held.
        release_held(&mut run);
    }
    verdict
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

fn gate(req: &MergeRequest, run: &mut Run) -> Result<End, Failure> {
    let settings = Settings::load(&req.repo, req.settings_file.as_deref())
        .map_err(|e| fail("config_error", e.to_string()))?
        .settings;
    let repo_git = Git::new(&req.repo);
    let top = repo_git
        .check(&["rev-parse", "--show-toplevel"])
        .map_err(|e| git_err(format!("{}: not a git worktree: {e}", req.repo.display())))?;
    let key =
        lease::repo_key(&req.repo, &req.remote).map_err(|e| fail("config_error", e.to_string()))?;
    run.fm.repo_key = Some(key.clone());
    if !settings.merge_gate_enabled {
        return Ok(End::Skipped(
            "merge gate disabled by settings (merge_gate_enabled = false)".into(),
        ));
    }
    if !applies_to(&settings.merge_gate_repos, &key, Path::new(&top)) {
        return Ok(End::Skipped(format!(
            "repository {key} is not listed in merge_gate_repos"
        )));
    }
    let test_command = req
        .test_command
        .clone()
        .or_else(|| settings.test_command.clone())
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            fail(
                "config_error",
                "no test command (--test or settings test_command)",
            )
        })?;
    // The command itself may carry a secret (`KEY=... make test`): store it redacted.
    run.fm.test_command = Some(match redact::redact_text(&test_command) {
        Ok((redacted, _)) => redacted,
        Err(e) => format!("(omitted: secret redaction unavailable: {e})"),
    });
    let test_timeout = req
        .test_timeout
        .unwrap_or(Duration::from_secs(settings.test_timeout_s));
    let ttl = req
        .lease_ttl
        .unwrap_or(Duration::from_secs(settings.lease_ttl_s))
        .max(Duration::from_secs(1));
    let holder = req
        .holder
        .clone()
        .unwrap_or_else(|| format!("merge-gate:{}@{}", req.branch, lease::hostname()));
    run.fm.gate_holder = holder.clone();

    // 1. Names and protection, before anything changes.
    for (what, name) in [("branch", &req.branch), ("main", &req.main)] {
        let ok = repo_git
            .run(&["check-ref-format", &format!("refs/heads/{name}")])
            .map_err(git_err)?
            .ok();
        if !ok || name.starts_with('-') || name.is_empty() {
            return Err(fail(
                "config_error",
                format!("invalid {what} name '{name}'"),
            ));
        }
    }
    if req.remote.starts_with('-') || req.remote.is_empty() {
        return Err(fail(
            "config_error",
            format!("invalid remote name '{}'", req.remote),
        ));
    }
    let remote_head = repo_git
        .run(&[
            "symbolic-ref",
            "--quiet",
            "--short",
            &format!("refs/remotes/{}/HEAD", req.remote),
        ])
        .ok()
        .filter(|o| o.ok())
        .and_then(|o| {
            o.stdout
                .trim()
                .strip_prefix(&format!("{}/", req.remote))
                .map(str::to_string)
        });
    let protected = Protected::new(&req.main, remote_head, &settings.protected_refs);
    if protected.is_protected(&req.branch) {
        return Err(fail(
            "protected_ref",
            format!(
                "refusing to gate and push protected branch '{}'",
                req.branch
            ),
        ));
    }

    // 2. Fetch (again after the lease is ours, so the base is current when testing starts).
    let (base, _) = fetch_refs(&repo_git, req)?;
    run.fm.base_sha = Some(base.clone());

    // 3. Lease.
    let loc = lease::LeaseBackend::choose(
        req.lease_url.as_deref(),
        req.lease_dir.as_deref(),
        &settings,
    )
    .and_then(|b| b.location(&key))
    .map_err(|e| fail("lease_error", e.to_string()))?;
    run.fm.lease_path = Some(loc.lease_path().display().to_string());
    let opts = AcquireOptions {
        holder: holder.clone(),
        branch: Some(req.branch.clone()),
        base_sha: Some(base.clone()),
        ttl,
        process: ProcessBinding::current(),
    };
    match lease::acquire(&loc, &opts).map_err(|e| fail("lease_error", e.to_string()))? {
        Acquisition::Busy(cur) => {
            let base_retry = settings.defer_retry_after_s.max(1);
            let retry = base_retry + fastrand::u64(0..=base_retry / 2);
            run.fm.holder = Some(cur.holder.clone());
            run.fm.held_since = Some(cur.acquired_at.to_string());
            run.fm.holder_branch = cur.branch.clone();
            run.fm.retry_after_s = Some(retry);
            run.fm.reasons.push(format!(
                "lease busy: held by '{}' since {} (token {}); retry after {retry}s",
                cur.holder, cur.acquired_at, cur.fencing_token
            ));
            return Ok(End::Defer);
        }
        Acquisition::Acquired(record) => {
            run.fm.holder = Some(record.holder.clone());
            run.fm.fencing_token = Some(record.fencing_token);
            run.fm.lease_nonce = Some(record.nonce.clone());
            run.held = Some(Held { loc, record, ttl });
        }
    }

    let (base, seen) = fetch_refs(&repo_git, req)?;
    run.fm.base_sha = Some(base.clone());
    run.fm.remote_branch_sha = seen.clone();

    // 4. The branch and its worktree.
    let local = repo_git
        .commit_of(&format!("refs/heads/{}", req.branch))
        .map_err(git_err)?;
    let old = match (&local, &seen) {
        (Some(l), _) => l.clone(),
        (None, Some(s)) => {
            repo_git
                .check(&["branch", "--no-track", &req.branch, s])
                .map_err(git_err)?;
            s.clone()
        }
        (None, None) => {
            return Err(git_err(format!(
                "branch '{}' exists neither locally nor on {}",
                req.branch, req.remote
            )));
        }
    };
    run.fm.branch_sha_before = Some(old.clone());
    if let Some(s) = &seen
        && *s != old
        && !repo_git.is_ancestor(s, &old).map_err(git_err)?
    {
        return Err(fail(
            "push_rejected",
            format!(
                "{}/{} ({}) has commits the local branch ({}) lacks; refusing to overwrite them",
                req.remote,
                req.branch,
                short(s),
                short(&old)
            ),
        ));
    }
    let wt = find_or_create_worktree(&repo_git, req)?;
    run.fm.worktree = Some(wt.display().to_string());
    let wt_git = Git::new(&wt);
    // A rebase an interrupted gate run left behind is aborted (we hold the lease, so no
    // other gate uses this worktree); any other operation in progress fails closed.
    recover::recover_worktree(&repo_git, &wt_git, &req.branch, &old, run)?;
    let dirty = wt_git.tracked_changes().map_err(git_err)?;
    if !dirty.is_empty() {
        return Err(git_err(format!(
            "{}: worktree has uncommitted changes ({})",
            wt.display(),
            dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let head = wt_git.commit_of("HEAD").map_err(git_err)?;
    if head.as_deref() != Some(old.as_str()) {
        return Err(git_err(format!(
            "{}: HEAD is not at branch '{}'",
            wt.display(),
            req.branch
        )));
    }

    // 5. Behind? Rebase.
    let merge_base = wt_git.check(&["merge-base", &old, &base]).map_err(|e| {
        git_err(format!(
            "branch and {}/{} share no history: {e}",
            req.remote, req.main
        ))
    })?;
    let behind = merge_base != base;
    run.fm.merge_base = Some(merge_base);
    run.fm.behind = Some(behind);
    let tested = if behind {
        rebase(&wt_git, &base, &old, run)?;
        run.fm.rebased = true;
        let new = wt_git
            .commit_of("HEAD")
            .map_err(git_err)?
            .ok_or_else(|| git_err("HEAD vanished after rebase".into()))?;
        if !wt_git.is_ancestor(&base, &new).map_err(git_err)? {
            return Err(git_err(
                "rebase did not put the branch on top of main".into(),
            ));
        }
        new
    } else {
        old.clone()
    };
    run.fm.tested_sha = Some(tested.clone());

    // 6. Re-test.
    keep_lease(run)?;
    run_tests(
        run,
        &wt,
        &test_command,
        test_timeout,
        &base,
        &tested,
        &req.branch,
    )?;
    if wt_git.commit_of("HEAD").map_err(git_err)?.as_deref() != Some(tested.as_str()) {
        return Err(git_err("the test command moved HEAD".into()));
    }
    let changed = wt_git.tracked_changes().map_err(git_err)?;
    if !changed.is_empty() {
        run.fm.test_output_tail.get_or_insert_with(String::new);
        return Err(fail(
            "tests_failed",
            format!(
                "the test command modified tracked files ({})",
                changed
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    // 7. Push the task branch only.
    keep_lease(run)?;
    if seen.as_deref() != Some(tested.as_str()) {
        push_branch(
            &repo_git,
            &protected,
            &req.remote,
            &req.branch,
            &tested,
            seen.as_deref(),
        )?;
        run.fm.pushed = true;
    }

    // 8. PASS: keep the lease, unbound from this process.
    let h = run
        .held
        .as_ref()
        .ok_or_else(|| fail("lease_lost", "lease not held"))?;
    let rec = lease::renew_with(
        &h.loc,
        &h.record.holder,
        Some(&h.record.nonce),
        h.ttl,
        Binding::Clear,
    )
    .map_err(|e| fail(e.gate_reason(), e.to_string()))?;
    run.fm.lease_expires_at = Some(rec.expires_at.to_string());
    run.fm.reasons.push(format!(
        "{} tested at {} on top of {} ({}); lease held with token {}",
        req.branch,
        short(&tested),
        short(&base),
        if run.fm.pushed {
            "pushed"
        } else {
            "no push needed"
        },
        rec.fencing_token
    ));
    // `run.held` stays set: `merge` releases it only if the PASS report cannot be written
    // or read back as PASS; otherwise the lease outlives this process.
    Ok(End::Pass)
}

pub(crate) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Renew the lease (proving it is still ours); failure is FAIL `lease_lost`.
fn keep_lease(run: &mut Run) -> Result<(), Failure> {
    let h = run
        .held
        .as_ref()
        .ok_or_else(|| fail("lease_lost", "lease not held"))?;
    match lease::renew(&h.loc, &h.record.holder, Some(&h.record.nonce), h.ttl) {
        Ok(rec) => {
            run.fm.lease_expires_at = Some(rec.expires_at.to_string());
            Ok(())
        }
        Err(e) => {
            run.held = None;
            Err(fail(
                e.gate_reason(),
                format!("the lease is no longer ours: {e}"),
            ))
        }
    }
}
