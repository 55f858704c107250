//! The git steps of the merge gate that touch refs or worktrees: fetch, worktree lookup,
//! rebase (aborted on conflict) and the push of the task branch.

use std::path::{Path, PathBuf};

use super::git::{Git, Operation, first_lines, worktrees};
use super::protect::Protected;
use super::recover::{mark_rebase, move_aside_gate_worktree, unmark};
use super::{Failure, MergeRequest, Run, fail, git_err, short};

/// Fetch main (and the branch, if the remote has it) into the remote-tracking refs; returns
/// main's tip and the remote branch's tip as fetched (`None`: absent on the remote).
pub(super) fn fetch_refs(
    repo_git: &Git,
    req: &MergeRequest,
) -> Result<(String, Option<String>), Failure> {
    let remote_branch = format!("refs/remotes/{}/{}", req.remote, req.branch);
    let remote_main = format!("refs/remotes/{}/{}", req.remote, req.main);
    let listed = repo_git
        .check(&[
            "ls-remote",
            "--heads",
            &req.remote,
            &format!("refs/heads/{}", req.branch),
        ])
        .map_err(git_err)?;
    let branch_on_remote = listed
        .lines()
        .any(|l| l.ends_with(&format!("\trefs/heads/{}", req.branch)));
    let mut fetch_args = vec![
        "fetch".to_string(),
        "--no-tags".into(),
        "--no-write-fetch-head".into(),
        req.remote.clone(),
        format!("+refs/heads/{}:{remote_main}", req.main),
    ];
    if branch_on_remote {
        fetch_args.push(format!("+refs/heads/{}:{remote_branch}", req.branch));
    }
    let fetch_refs: Vec<&str> = fetch_args.iter().map(String::as_str).collect();
    repo_git.check(&fetch_refs).map_err(git_err)?;
    let base = repo_git
        .commit_of(&remote_main)
        .map_err(git_err)?
        .ok_or_else(|| git_err(format!("{remote_main} does not exist after fetch")))?;
    let seen = if branch_on_remote {
        Some(
            repo_git
                .commit_of(&remote_branch)
                .map_err(git_err)?
                .ok_or_else(|| git_err(format!("{remote_branch} does not exist after fetch")))?,
        )
    } else {
        None
    };
    Ok((base, seen))
}

/// The worktree that has the branch checked out, or a new linked worktree for it. A gate's
/// own worktree that an interrupted run left in the way (another branch checked out,
/// half-created, no longer registered) is moved aside first (see `recover`).
pub(super) fn find_or_create_worktree(
    repo: &Git,
    req: &MergeRequest,
    run: &mut Run,
) -> Result<PathBuf, Failure> {
    let full = format!("refs/heads/{}", req.branch);
    let mut list = worktrees(repo).map_err(git_err)?;
    if list.iter().any(|w| w.prunable) {
        repo.check(&["worktree", "prune"]).map_err(git_err)?;
        list = worktrees(repo).map_err(git_err)?;
    }
    let mut existing = list
        .iter()
        .find(|w| w.branch.as_deref() == Some(full.as_str()))
        .map(|w| w.path.clone());
    if existing.is_none() {
        // A worktree in the middle of rebasing the branch has a detached HEAD.
        existing = list
            .iter()
            .filter(|w| w.branch.is_none() && !w.prunable && w.path.is_dir())
            .find(|w| {
                matches!(
                    Git::new(&w.path).operation_in_progress(),
                    Ok(Some(Operation::Rebase { ref head_name, .. })) if *head_name == full
                )
            })
            .map(|w| w.path.clone());
    }
    if let Some(path) = existing {
        if let Some(want) = &req.worktree {
            let a = want.canonicalize().unwrap_or_else(|_| want.clone());
            let b = path.canonicalize().unwrap_or_else(|_| path.clone());
            if a != b {
                return Err(git_err(format!(
                    "branch '{}' is checked out in {}, not in --worktree {}",
                    req.branch,
                    path.display(),
                    want.display()
                )));
            }
        }
        return Ok(path);
    }
    let path = match &req.worktree {
        Some(p) => p.clone(),
        None => {
            let common = repo
                .check(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
                .map_err(git_err)?;
            let safe: String = req
                .branch
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            Path::new(&common)
                .join("portcullis")
                .join("worktrees")
                .join(safe)
        }
    };
    if req.worktree.is_none() {
        move_aside_gate_worktree(repo, &path, run)?;
    }
    let p = path.to_string_lossy().into_owned();
    repo.check(&["worktree", "add", &p, &req.branch])
        .map_err(git_err)?;
    Ok(path)
}

/// Rebase the worktree's branch onto `base`; a conflict is aborted and reported with its files.
/// A marker in the worktree's git directory lets the next run recover if this process is
/// killed mid-rebase (see `recover`).
pub(super) fn rebase(wt: &Git, base: &str, old: &str, run: &mut Run) -> Result<(), Failure> {
    let branch = run.fm.branch.clone();
    mark_rebase(wt, &branch, old, base, &run.fm.gate_holder)?;
    let result = rebase_marked(wt, base, old, run);
    if !wt.rebase_in_progress().unwrap_or(true) {
        unmark(wt);
    }
    result
}

fn rebase_marked(wt: &Git, base: &str, old: &str, run: &mut Run) -> Result<(), Failure> {
    let out = wt
        .run(&["rebase", "--no-autosquash", base])
        .map_err(git_err)?;
    if out.ok() {
        return Ok(());
    }
    if !wt.rebase_in_progress().map_err(git_err)? {
        return Err(git_err(format!(
            "git rebase failed: {}",
            first_lines(&out.stderr, 4)
        )));
    }
    let mut files: Vec<String> = wt
        .check(&["diff", "--name-only", "--diff-filter=U"])
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    if files.is_empty() {
        files.push("(git reported a conflict without unmerged paths)".into());
    }
    let abort = wt.run(&["rebase", "--abort"]);
    let clean = !wt.rebase_in_progress().unwrap_or(true)
        && wt.tracked_changes().map(|c| c.is_empty()).unwrap_or(false)
        && wt.commit_of("HEAD").ok().flatten().as_deref() == Some(old);
    if !clean {
        let detail = match abort {
            Ok(o) => first_lines(&o.stderr, 3),
            Err(e) => e.to_string(),
        };
        return Err(git_err(format!(
            "rebase conflicted in {} and `git rebase --abort` did not restore the worktree: {detail}",
            files.join(", ")
        )));
    }
    run.fm.reasons.push(format!(
        "rebase onto {} conflicts in {} file(s); aborted, worktree clean",
        short(base),
        files.len()
    ));
    run.fm.conflict_files = files.clone();
    Err(fail("conflict", files.join(", ")))
}

/// Push `tested` to `refs/heads/<branch>` only, with an explicit lease on the sha the gate
/// saw (`None`: the branch must not exist on the remote). Protected refs are refused here,
/// whatever the caller computed before.
pub(super) fn push_branch(
    repo: &Git,
    protected: &Protected,
    remote: &str,
    branch: &str,
    tested: &str,
    seen: Option<&str>,
) -> Result<(), Failure> {
    if protected.is_protected(branch) || branch.contains(':') || branch.starts_with(['+', '-']) {
        return Err(fail(
            "protected_ref",
            format!("refusing to push protected ref refs/heads/{branch}"),
        ));
    }
    let dst = format!("refs/heads/{branch}");
    let lease_arg = format!("--force-with-lease={dst}:{}", seen.unwrap_or(""));
    let refspec = format!("{tested}:{dst}");
    let out = repo
        .run(&[
            "push",
            "--porcelain",
            "--no-verify",
            &lease_arg,
            remote,
            &refspec,
        ])
        .map_err(git_err)?;
    if out.ok() {
        return Ok(());
    }
    let rejected = out
        .stdout
        .lines()
        .find(|l| l.starts_with('!'))
        .map(str::to_string);
    match rejected {
        Some(line) => Err(fail(
            "push_rejected",
            format!(
                "push of {dst} rejected (someone else moved it since {}): {}",
                seen.map_or("it was absent".to_string(), |s| short(s).to_string()),
                line.trim()
            ),
        )),
        None => Err(git_err(format!(
            "git push failed: {}",
            first_lines(&out.stderr, 4)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_refuses_protected_refs_before_running_git() {
        let p = Protected::new("main", None, &[]);
        // A directory that is not a repository: if git ran, this would be git_error.
        let g = Git::new("/nonexistent-portcullis-dir");
        let e = push_branch(
            &g,
            &p,
            "origin",
            "main",
            "0000000000000000000000000000000000000000",
            None,
        )
        .err()
        .map(|f| f.reason);
        assert_eq!(e, Some("protected_ref"));
    }
}
