//! The merge gate's steps, in the order [`super::merge`] runs them. Each takes what the
//! earlier steps produced, records its evidence in the report, and returns a `Failure` (the
//! FAIL verdict) when the run must stop:
//!
//! 1. [`plan`]: settings, repository, lease key, test command, timeouts (or skip);
//! 2. [`check_names`] and [`protection`]: refuse bad names and protected targets;
//! 3. [`fetch_refs`]: main (and the branch) from the remote;
//! 4. [`take_lease`]: end a dead gate's leftover processes, acquire (or DEFER);
//! 5. [`refetch`]: main again, now that the lease is ours;
//! 6. [`resolve_branch`]: the local branch tip, and whether the remote copy may be replaced;
//! 7. [`prepare_worktree`]: find or create the worktree, recover it, require it clean;
//! 8. [`catch_up`]: rebase onto main when behind;
//! 9. [`retest`]: run the test command, then require HEAD and the tracked files unchanged;
//! 10. [`push`]: push the task branch only;
//! 11. [`hold_for_merge`]: keep the lease past this process for the pipeline's merge.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lease::{self, AcquireOptions, Acquisition, Binding, LeaseLocation, ProcessBinding};
use crate::settings::Settings;

use super::git::{Git, Head};
use super::gitops::{find_or_create_worktree, push_branch, rebase};
use super::protect::{Protected, applies_to};
use super::testrun::run_tests;
use super::{Failure, Held, MergeRequest, Run, fail, git_err, note_recovered, redact, short};

pub(super) use super::gitops::fetch_refs;

/// What the run works with once its settings are resolved.
pub(super) struct Plan {
    /// Git in the repository the request names.
    pub repo_git: Git,
    /// The settings in force.
    pub settings: Settings,
    /// The lease key (normalised remote URL).
    pub key: String,
    /// The test command (`sh -c`).
    pub test_command: String,
    /// The test command's timeout.
    pub test_timeout: Duration,
    /// The lease's time to live.
    pub ttl: Duration,
    /// The lease holder id.
    pub holder: String,
}

/// Whether the gate runs at all.
pub(super) enum Start {
    /// Run with this plan.
    Go(Box<Plan>),
    /// The settings leave this repository out: PASS, skipped, with the reason.
    Skip(String),
}

/// Step 1: load the settings, find the repository and its lease key, and resolve the test
/// command, timeouts and holder id. Disabled or unlisted repositories are skipped.
pub(super) fn plan(req: &MergeRequest, run: &mut Run) -> Result<Start, Failure> {
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
        return Ok(Start::Skip(
            "merge gate disabled by settings (merge_gate_enabled = false)".into(),
        ));
    }
    if !applies_to(&settings.merge_gate_repos, &key, Path::new(&top)) {
        return Ok(Start::Skip(format!(
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
    Ok(Start::Go(Box::new(Plan {
        repo_git,
        settings,
        key,
        test_command,
        test_timeout,
        ttl,
        holder,
    })))
}

/// Step 2a: the branch, main and remote names must be valid and cannot be options.
pub(super) fn check_names(repo_git: &Git, req: &MergeRequest) -> Result<(), Failure> {
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
    Ok(())
}

/// Step 2b: the refs this run must never push (main, `master`, the remote's default branch,
/// settings `protected_refs`); the task branch itself among them is FAIL `protected_ref`.
pub(super) fn protection(plan: &Plan, req: &MergeRequest) -> Result<Protected, Failure> {
    let remote_head = plan
        .repo_git
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
    let protected = Protected::new(&req.main, remote_head, &plan.settings.protected_refs);
    if protected.is_protected(&req.branch) {
        return Err(fail(
            "protected_ref",
            format!(
                "refusing to gate and push protected branch '{}'",
                req.branch
            ),
        ));
    }
    Ok(protected)
}

/// Step 4: acquire the repository's lease, bound to this process. First, processes a killed
/// gate left behind are ended (they keep its lease from going stale); after acquiring, so
/// are those of a predecessor whose lease expired, before anything touches the worktree.
/// `Ok(false)`: the lease is busy (DEFER, with the holder in the report).
pub(super) fn take_lease(
    plan: &Plan,
    req: &MergeRequest,
    base: &str,
    run: &mut Run,
) -> Result<bool, Failure> {
    let loc = lease::LeaseBackend::choose(
        req.lease_url.as_deref(),
        req.lease_dir.as_deref(),
        &plan.settings,
    )
    .and_then(|b| b.location(&plan.key))
    .map_err(|e| fail("lease_error", e.to_string()))?;
    run.fm.lease_path = Some(loc.lease_path().display().to_string());
    // A failure here shows in the reasons; the acquisition then finds the lease busy.
    end_leftovers(&loc, run).ok();
    let opts = AcquireOptions {
        holder: plan.holder.clone(),
        branch: Some(req.branch.clone()),
        base_sha: Some(base.to_string()),
        ttl: plan.ttl,
        process: ProcessBinding::current(),
    };
    match lease::acquire(&loc, &opts).map_err(|e| fail("lease_error", e.to_string()))? {
        Acquisition::Busy(cur) => {
            let base_retry = plan.settings.defer_retry_after_s.max(1);
            let retry = base_retry + fastrand::u64(0..=base_retry / 2);
            run.fm.holder = Some(cur.holder.clone());
            run.fm.held_since = Some(cur.acquired_at.to_string());
            run.fm.holder_branch = cur.branch.clone();
            run.fm.retry_after_s = Some(retry);
            run.fm.reasons.push(format!(
                "lease busy: held by '{}' since {} (token {}); retry after {retry}s",
                cur.holder, cur.acquired_at, cur.fencing_token
            ));
            Ok(false)
        }
        Acquisition::Acquired(record) => {
            run.fm.holder = Some(record.holder.clone());
            run.fm.fencing_token = Some(record.fencing_token);
            run.fm.lease_nonce = Some(record.nonce.clone());
            run.held = Some(Held {
                loc: loc.clone(),
                record,
                ttl: plan.ttl,
            });
            end_leftovers(&loc, run)
                .map_err(|e| fail("lease_error", format!("leftover processes: {e}")))?;
            Ok(true)
        }
    }
}

/// End the process group an earlier gate run left (see [`lease::end_leftover_children`]) and
/// say so in the report.
fn end_leftovers(loc: &LeaseLocation, run: &mut Run) -> Result<(), lease::LeaseError> {
    match lease::end_leftover_children(loc) {
        Ok(None) => Ok(()),
        // The group was already gone: its record is cleared, nothing worth reporting.
        Ok(Some(ended)) if ended.killed == 0 => Ok(()),
        Ok(Some(ended)) => {
            let line = format!(
                "recovered: ended {} leftover process(es) of an interrupted gate run ({})",
                ended.killed, ended.children.what
            );
            note_recovered(run, line);
            Ok(())
        }
        Err(e) => {
            run.fm.reasons.push(format!("leftover processes: {e}"));
            Err(e)
        }
    }
}

/// Step 5: fetch again now that the lease is ours, so testing starts from the current main.
/// Returns main's tip and the remote branch's tip (`None`: absent on the remote).
pub(super) fn refetch(
    repo_git: &Git,
    req: &MergeRequest,
    run: &mut Run,
) -> Result<(String, Option<String>), Failure> {
    let (base, seen) = fetch_refs(repo_git, req)?;
    run.fm.base_sha = Some(base.clone());
    run.fm.remote_branch_sha = seen.clone();
    Ok((base, seen))
}

/// Step 6: the local branch tip the run starts from (created from the remote branch if
/// there is no local one). FAIL `push_rejected` if the remote branch has changes the local
/// one lacks; a remote copy whose every commit is in the local branch as an equivalent
/// patch (an earlier run rebased but did not push) may be replaced.
pub(super) fn resolve_branch(
    repo_git: &Git,
    req: &MergeRequest,
    seen: Option<&str>,
    run: &mut Run,
) -> Result<String, Failure> {
    let local = repo_git
        .commit_of(&format!("refs/heads/{}", req.branch))
        .map_err(git_err)?;
    let old = match (local, seen) {
        (Some(l), _) => l,
        (None, Some(s)) => {
            repo_git
                .check(&["branch", "--no-track", &req.branch, s])
                .map_err(git_err)?;
            s.to_string()
        }
        (None, None) => {
            return Err(git_err(format!(
                "branch '{}' exists neither locally nor on {}",
                req.branch, req.remote
            )));
        }
    };
    run.fm.branch_sha_before = Some(old.clone());
    let Some(s) = seen else {
        return Ok(old);
    };
    if s == old || repo_git.is_ancestor(s, &old).map_err(git_err)? {
        return Ok(old);
    }
    let missing = repo_git.commits_missing_from(&old, s).map_err(git_err)?;
    if !missing.is_empty() {
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
    run.fm.reasons.push(format!(
        "{}/{} ({}) is not an ancestor of the local branch ({}), but every commit of it is in \
         the local branch (rebased earlier); it may be replaced",
        req.remote,
        req.branch,
        short(s),
        short(&old)
    ));
    Ok(old)
}

/// Step 7: the branch's worktree (found or created), recovered from an interrupted run (see
/// `recover`), clean, with HEAD at the branch tip. Its git commands are recorded next to the
/// lease while they run.
pub(super) fn prepare_worktree(
    repo_git: &Git,
    req: &MergeRequest,
    old: &str,
    run: &mut Run,
) -> Result<(PathBuf, Git), Failure> {
    let wt = find_or_create_worktree(repo_git, req, run)?;
    run.fm.worktree = Some(wt.display().to_string());
    let wt_git = Git::new(&wt).recorded(run.held.as_ref().map(Held::recorder));
    // A rebase an interrupted gate run left behind is aborted (we hold the lease, so no
    // other gate uses this worktree); any other operation in progress fails closed.
    super::recover::recover_worktree(repo_git, &wt_git, &req.branch, old, run)?;
    let dirty = wt_git.tracked_changes().map_err(git_err)?;
    if !dirty.is_empty() {
        return Err(git_err(format!(
            "{}: worktree has uncommitted changes ({})",
            wt.display(),
            dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let head = wt_git.commit_of("HEAD").map_err(git_err)?;
    if head.as_deref() != Some(old) {
        return Err(git_err(format!(
            "{}: HEAD is not at branch '{}'",
            wt.display(),
            req.branch
        )));
    }
    Ok((wt, wt_git))
}

/// Step 8: if main is not an ancestor of the branch, rebase the branch onto it (a conflict
/// is aborted: FAIL `conflict` with the files). Returns the commit to test.
pub(super) fn catch_up(
    wt_git: &Git,
    req: &MergeRequest,
    base: &str,
    old: &str,
    run: &mut Run,
) -> Result<String, Failure> {
    let merge_base = wt_git.check(&["merge-base", old, base]).map_err(|e| {
        git_err(format!(
            "branch and {}/{} share no history: {e}",
            req.remote, req.main
        ))
    })?;
    let behind = merge_base != base;
    run.fm.merge_base = Some(merge_base);
    run.fm.behind = Some(behind);
    let tested = if behind {
        rebase(wt_git, base, old, run)?;
        run.fm.rebased = true;
        let new = wt_git
            .commit_of("HEAD")
            .map_err(git_err)?
            .ok_or_else(|| git_err("HEAD vanished after rebase"))?;
        if !wt_git.is_ancestor(base, &new).map_err(git_err)? {
            return Err(git_err("rebase did not put the branch on top of main"));
        }
        new
    } else {
        old.to_string()
    };
    run.fm.tested_sha = Some(tested.clone());
    Ok(tested)
}

/// Step 9: run the test command on the tested commit; then HEAD must still name the branch
/// at that commit (a test that commits or switches branches moved it) and no tracked file
/// may have changed.
#[allow(clippy::too_many_arguments)]
pub(super) fn retest(
    plan: &Plan,
    req: &MergeRequest,
    wt: &Path,
    wt_git: &Git,
    base: &str,
    tested: &str,
    run: &mut Run,
) -> Result<(), Failure> {
    keep_lease(run)?;
    let expected = Head {
        branch: Some(format!("refs/heads/{}", req.branch)),
        commit: Some(tested.to_string()),
    };
    let before = wt_git.head().map_err(git_err)?;
    if before != expected {
        return Err(git_err(format!(
            "{}: HEAD is {before}, expected {expected} before testing",
            wt.display()
        )));
    }
    run_tests(
        run,
        wt,
        &plan.test_command,
        plan.test_timeout,
        base,
        tested,
        &req.branch,
    )?;
    // Branch and commit: a test that switches branches (`git checkout -b other`) moved HEAD
    // as much as one that commits.
    let after = wt_git.head().map_err(git_err)?;
    if after != expected {
        return Err(git_err(format!(
            "the test command moved HEAD (from {expected} to {after})"
        )));
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
    Ok(())
}

/// Step 10: push the tested commit to the task branch only, if the remote does not have it
/// already (`--force-with-lease` on the sha the run saw).
pub(super) fn push(
    repo_git: &Git,
    protected: &Protected,
    req: &MergeRequest,
    tested: &str,
    seen: Option<&str>,
    run: &mut Run,
) -> Result<(), Failure> {
    keep_lease(run)?;
    if seen != Some(tested) {
        push_branch(repo_git, protected, &req.remote, &req.branch, tested, seen)?;
        run.fm.pushed = true;
    }
    Ok(())
}

/// Step 11: PASS keeps the lease, unbound from this process (TTL only), until the pipeline
/// merges and releases it.
pub(super) fn hold_for_merge(
    req: &MergeRequest,
    base: &str,
    tested: &str,
    run: &mut Run,
) -> Result<(), Failure> {
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
        short(tested),
        short(base),
        if run.fm.pushed {
            "pushed"
        } else {
            "no push needed"
        },
        rec.fencing_token
    ));
    Ok(())
}

/// Renew the lease (proving it is still ours); failure is FAIL `lease_lost` (or
/// `lease_error` when the lease store cannot be reached).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::merge::report::MergeFrontmatter;

    fn sh_git(dir: &Path, args: &[&str]) -> String {
        portcullis_pack::testing::git(dir, args).trim().to_string()
    }

    fn commit(dir: &Path, file: &str, text: &str) -> String {
        std::fs::write(dir.join(file), text).unwrap();
        sh_git(dir, &["add", file]);
        sh_git(dir, &["commit", "-qm", file]);
        sh_git(dir, &["rev-parse", "HEAD"])
    }

    fn run() -> Run {
        Run {
            fm: MergeFrontmatter::new("r".into(), "origin".into(), "task".into(), "main".into()),
            held: None,
        }
    }

    /// A repository with main = [a] and a branch `task` = main + [c], checked out.
    fn repo() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        sh_git(t.path(), &["init", "-q", "-b", "main"]);
        sh_git(
            t.path(),
            &[
                "remote",
                "add",
                "origin",
                "https://example.invalid/acme/app.git",
            ],
        );
        commit(t.path(), "a.txt", "alpha\n");
        sh_git(t.path(), &["checkout", "-q", "-b", "task"]);
        commit(t.path(), "c.txt", "charlie\n");
        t
    }

    #[test]
    fn plan_without_a_test_command_is_a_config_error_and_a_disabled_gate_skips() {
        let t = repo();
        let req = MergeRequest::new(t.path(), "task");
        let e = plan(&req, &mut run()).err().map(|f| f.reason);
        assert_eq!(e, Some("config_error"));
        let mut req = req;
        req.test_command = Some("true".into());
        match plan(&req, &mut run()) {
            Ok(Start::Go(p)) => {
                assert_eq!(p.key, "example.invalid/acme/app");
                assert!(p.holder.starts_with("merge-gate:task@"));
            }
            _ => panic!("expected a plan"),
        }
        std::fs::write(
            t.path().join("portcullis.toml"),
            "merge_gate_enabled = false\n",
        )
        .unwrap();
        assert!(matches!(plan(&req, &mut run()), Ok(Start::Skip(_))));
    }

    #[test]
    fn names_that_are_options_or_invalid_refs_are_refused() {
        let t = repo();
        let g = Git::new(t.path());
        assert!(check_names(&g, &MergeRequest::new(t.path(), "task")).is_ok());
        for bad in ["-x", "a..b", ""] {
            let e = check_names(&g, &MergeRequest::new(t.path(), bad)).err();
            assert_eq!(e.map(|f| f.reason), Some("config_error"), "{bad}");
        }
        let mut req = MergeRequest::new(t.path(), "task");
        req.remote = "--upload-pack=x".into();
        assert!(check_names(&g, &req).is_err());
    }

    #[test]
    fn catch_up_rebases_a_behind_branch_onto_main() {
        let t = repo();
        let g = Git::new(t.path());
        let old = sh_git(t.path(), &["rev-parse", "task"]);
        sh_git(t.path(), &["checkout", "-q", "main"]);
        let base = commit(t.path(), "d.txt", "delta\n");
        sh_git(t.path(), &["checkout", "-q", "task"]);
        let req = MergeRequest::new(t.path(), "task");
        let mut r = run();
        let tested = catch_up(&g, &req, &base, &old, &mut r).unwrap();
        assert_ne!(tested, old);
        assert!(g.is_ancestor(&base, &tested).unwrap());
        assert_eq!(r.fm.behind, Some(true));
        assert!(r.fm.rebased);
        // Up to date now: nothing to do.
        let mut r = run();
        assert_eq!(catch_up(&g, &req, &base, &tested, &mut r).unwrap(), tested);
        assert_eq!(r.fm.behind, Some(false));
    }

    #[test]
    fn resolve_branch_replaces_only_a_remote_copy_whose_commits_it_has() {
        let t = repo();
        let g = Git::new(t.path());
        let req = MergeRequest::new(t.path(), "task");
        let remote_tip = sh_git(t.path(), &["rev-parse", "task"]);
        // The local branch rebased onto a newer main: the same change, new commits.
        sh_git(t.path(), &["checkout", "-q", "main"]);
        commit(t.path(), "d.txt", "delta\n");
        sh_git(t.path(), &["checkout", "-q", "task"]);
        sh_git(t.path(), &["rebase", "-q", "main"]);
        let old = resolve_branch(&g, &req, Some(&remote_tip), &mut run()).unwrap();
        assert_eq!(old, sh_git(t.path(), &["rev-parse", "task"]));
        // A remote commit the local branch lacks: refused.
        sh_git(
            t.path(),
            &["checkout", "-q", "-b", "elsewhere", &remote_tip],
        );
        let theirs = commit(t.path(), "e.txt", "echo\n");
        sh_git(t.path(), &["checkout", "-q", "task"]);
        let e = resolve_branch(&g, &req, Some(&theirs), &mut run()).err();
        assert_eq!(e.map(|f| f.reason), Some("push_rejected"));
    }
}
