//! The merge gate recovers a worktree an interrupted gate run left mid-rebase, and keeps
//! failing closed on operations it did not start. Real git, real gate processes.

use crate::merge_gate_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use merge_gate_support::*;
use portcullis::lease::{self, LeaseState};
use portcullis::report::{Outcome, read_verdict};

/// The real git binary on PATH.
fn real_git() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH");
    std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH")
}

/// A directory with a `git` wrapper that runs the real git and, when the gate's rebase
/// returns, SIGKILLs its caller (the gate process): the gate dies mid-rebase.
fn killing_git_dir(root: &Path) -> PathBuf {
    let dir = root.join("killing-git");
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         case \" $* \" in\n\
         *\" rebase --no-autosquash \"*) \"{real}\" \"$@\"; kill -9 $PPID; exit 1;;\n\
         esac\n\
         exec \"{real}\" \"$@\"\n",
        real = real_git().display()
    );
    let p = dir.join("git");
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn rebase_dir(wt: &Path) -> PathBuf {
    PathBuf::from(git(
        wt,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "rebase-merge",
        ],
    ))
}

fn marker(wt: &Path) -> PathBuf {
    PathBuf::from(git(
        wt,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "portcullis-gate-rebase",
        ],
    ))
}

/// Branch `side` (off origin/main) that adds c.txt differently from the task branch.
fn conflicting_side_branch(fx: &Fixture) {
    let side = fx.tmp.path().join("wt-side");
    git(
        &fx.work,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            side.to_str().unwrap(),
            "origin/main",
        ],
    );
    commit_file(&side, "c.txt", "side version\n", "side: c");
}

/// Start, by hand, a rebase of the checked-out branch onto `side` that stops on a conflict.
fn start_conflicting_rebase_by_hand(wt: &Path) {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(wt)
        .args(["-c", "commit.gpgsign=false", "rebase", "side"]);
    git_env(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        !out.status.success(),
        "the rebase should stop on a conflict"
    );
    assert!(rebase_dir(wt).is_dir(), "rebase left in progress");
}

fn assert_free(fx: &Fixture) {
    assert_eq!(
        lease::status(&fx.lease_location()).unwrap(),
        LeaseState::Free
    );
}

#[test]
fn gate_killed_mid_rebase_is_recovered_by_the_next_run() {
    let fx = Fixture::new();
    commit_file(
        &fx.task_wt,
        "a.txt",
        "alpha\nTASK\ntwo\nthree\n",
        "task: edit a",
    );
    git(&fx.task_wt, &["push", "-q", "origin", "task"]);
    let before = fx.origin_ref("task");
    fx.advance_main("a.txt", "alpha\nMAIN\ntwo\nthree\n");

    // 1. A gate killed while its rebase is stopped on the conflict.
    let wrapper = killing_git_dir(fx.tmp.path());
    let path = std::env::join_paths(
        std::iter::once(wrapper).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = fx.gate("true").env("PATH", path).output().unwrap();
    assert_eq!(out.status.code(), None, "the gate was killed by SIGKILL");
    assert!(rebase_dir(&fx.task_wt).is_dir(), "left mid-rebase");
    assert!(marker(&fx.task_wt).is_file(), "the gate marked its rebase");
    assert!(git(&fx.task_wt, &["status", "--porcelain"]).contains("a.txt"));

    // 2. The next run aborts the leftover rebase and reaches the normal verdict.
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("conflict"));
    assert_eq!(list_field(&v, "conflict_files"), vec!["a.txt".to_string()]);
    let recovered = field(&v, "recovered").unwrap_or_default();
    assert!(recovered.contains("aborted a rebase"), "{recovered}");
    assert!(!rebase_dir(&fx.task_wt).exists());
    assert!(!marker(&fx.task_wt).exists());
    assert_eq!(git(&fx.task_wt, &["status", "--porcelain"]), "");
    assert_eq!(git(&fx.task_wt, &["rev-parse", "HEAD"]), before);
    assert_eq!(
        git(&fx.task_wt, &["symbolic-ref", "HEAD"]),
        "refs/heads/task"
    );
    assert_eq!(fx.origin_ref("task"), before);
    assert_free(&fx);
}

#[test]
fn rebase_left_in_the_gates_own_worktree_is_aborted_and_the_gate_passes() {
    let fx = Fixture::new();
    // The task branch is checked out nowhere: the gate creates and owns its worktree.
    git(
        &fx.work,
        &["worktree", "remove", fx.task_wt.to_str().unwrap()],
    );
    let (out, v) = fx.run_gate("true", &["--holder", "h1"]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let gate_wt = PathBuf::from(field(&v, "worktree").unwrap());
    let nonce = field(&v, "lease_nonce").unwrap();
    let rel = fx.lease_cli(&["release", "--holder", "h1", "--nonce", &nonce]);
    assert_eq!(rel.status.code(), Some(0));
    let before = git(&gate_wt, &["rev-parse", "HEAD"]);

    // A rebase stopped on a conflict in the gate's worktree, as an interrupted run leaves it.
    conflicting_side_branch(&fx);
    start_conflicting_rebase_by_hand(&gate_wt);
    let new_main = fx.advance_main("d.txt", "delta\n");

    let (out, v) = fx.run_gate("test -f c.txt && test -f d.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert!(
        field(&v, "recovered")
            .unwrap_or_default()
            .contains("aborted a rebase"),
        "{v:?}"
    );
    assert_eq!(field(&v, "worktree"), Some(gate_wt.display().to_string()));
    assert_eq!(field(&v, "rebased").as_deref(), Some("true"));
    assert_eq!(field(&v, "branch_sha_before"), Some(before));
    let tested = field(&v, "tested_sha").unwrap();
    assert_eq!(fx.origin_ref("task"), tested);
    assert_eq!(
        git(&fx.origin, &["rev-parse", "refs/heads/task^"]),
        new_main
    );
    assert!(!rebase_dir(&gate_wt).exists());
    assert_eq!(git(&gate_wt, &["status", "--porcelain"]), "");
}

#[test]
fn merge_left_in_the_gates_own_worktree_is_aborted() {
    let fx = Fixture::new();
    git(
        &fx.work,
        &["worktree", "remove", fx.task_wt.to_str().unwrap()],
    );
    let (out, v) = fx.run_gate("true", &["--holder", "h1"]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let gate_wt = PathBuf::from(field(&v, "worktree").unwrap());
    let nonce = field(&v, "lease_nonce").unwrap();
    fx.lease_cli(&["release", "--holder", "h1", "--nonce", &nonce]);
    let before = git(&gate_wt, &["rev-parse", "HEAD"]);
    conflicting_side_branch(&fx);
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(&gate_wt)
        .args(["-c", "commit.gpgsign=false", "merge", "--no-edit", "side"]);
    git_env(&mut cmd);
    assert!(!cmd.output().unwrap().status.success());
    let merge_head = git(
        &gate_wt,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "MERGE_HEAD",
        ],
    );
    assert!(Path::new(&merge_head).is_file());

    let (out, v) = fx.run_gate("test -f c.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert!(
        field(&v, "recovered")
            .unwrap_or_default()
            .contains("aborted a merge"),
        "{v:?}"
    );
    assert!(!Path::new(&merge_head).exists());
    assert_eq!(git(&gate_wt, &["rev-parse", "HEAD"]), before);
    assert_eq!(git(&gate_wt, &["status", "--porcelain"]), "");
}

#[test]
fn rebase_someone_started_in_their_own_worktree_fails_closed_untouched() {
    let fx = Fixture::new();
    conflicting_side_branch(&fx);
    start_conflicting_rebase_by_hand(&fx.task_wt);
    let status = git(&fx.task_wt, &["status", "--porcelain"]);
    let before = fx.origin_ref("task");
    fx.advance_main("d.txt", "delta\n");
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("git_error"));
    assert!(
        v.reasons[0].contains("the gate did not start"),
        "{:?}",
        v.reasons
    );
    // Nothing touched: the rebase and its conflict are still there for their owner.
    assert!(rebase_dir(&fx.task_wt).is_dir());
    assert_eq!(git(&fx.task_wt, &["status", "--porcelain"]), status);
    assert_eq!(fx.origin_ref("task"), before);
    assert_free(&fx);
    let v2 = read_verdict(&fx.report);
    assert_eq!(v2.outcome, Outcome::Fail);
}
