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
    add_worktree(&fx.work, "side", &side);
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

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = std::time::Instant::now();
    while !f() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Start a gate whose test command records its shell's pid and a background child's pid,
/// then waits; returns the gate process and both pids once the test runs.
fn gate_in_its_test(fx: &Fixture, extra: &[&str]) -> (std::process::Child, u32, u32) {
    let sh_pid = fx.tmp.path().join("sh.pid");
    let bg_pid = fx.tmp.path().join("bg.pid");
    let _ = std::fs::remove_file(&sh_pid);
    let _ = std::fs::remove_file(&bg_pid);
    let test = format!(
        "sleep 300 & echo $! > {bg}; echo $$ > {sh}; wait",
        bg = bg_pid.display(),
        sh = sh_pid.display()
    );
    let gate = fx.gate(&test).args(extra).spawn().unwrap();
    let (mut sh, mut bg) = (None, None);
    wait_until("the gate's test command", || {
        sh = read_pid(&sh_pid);
        bg = read_pid(&bg_pid);
        sh.is_some() && bg.is_some()
    });
    (gate, sh.unwrap(), bg.unwrap())
}

#[test]
fn gate_killed_during_its_test_leaves_no_test_process_and_the_next_gate_passes() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    let (mut gate, sh, bg) = gate_in_its_test(&fx, &[]);
    gate.kill().unwrap(); // SIGKILL
    gate.wait().unwrap();
    // The test command dies with the gate (parent-death signal).
    wait_until("the test command to die with the gate", || !pid_alive(sh));
    // Its background child is still running: the dead gate's lease is not stale yet.
    assert!(pid_alive(bg));
    match lease::status(&fx.lease_location()).unwrap() {
        LeaseState::Held { stale, .. } => assert_eq!(stale, None),
        LeaseState::Free => panic!("a killed gate cannot release its lease"),
    }
    // The next gate ends the leftover, reclaims the lease and passes: no manual cleanup.
    let (out, v) = fx.run_gate("test -f c.txt && test -f d.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let recovered = field(&v, "recovered").unwrap_or_default();
    assert!(
        recovered.contains("ended 1 leftover process") && recovered.contains("test command"),
        "{recovered}"
    );
    assert!(
        !pid_alive(bg),
        "leftover test process survived the next gate"
    );
    assert_eq!(git(&fx.task_wt, &["status", "--porcelain"]), "");
}

#[test]
fn lease_reclaimed_from_a_stopped_gate_ends_its_test_processes_before_the_worktree_is_used() {
    let fx = Fixture::new();
    let (mut gate, sh, bg) = gate_in_its_test(&fx, &["--ttl", "1"]);
    // The gate hangs (stopped): alive, but its lease expires. Stop it outside the lease
    // mutex (a process stopped while holding the mutex blocks every lease operation).
    let mutex = std::fs::File::open(fx.lease_location().mutex_path()).unwrap();
    loop {
        // The gate process this test started.
        portcullis_unsafe::process::kill(gate.id(), libc::SIGSTOP);
        std::thread::sleep(std::time::Duration::from_millis(20));
        if mutex.try_lock().is_ok() {
            mutex.unlock().unwrap();
            break;
        }
        portcullis_unsafe::process::kill(gate.id(), libc::SIGCONT);
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    wait_until("the lease to expire", || {
        matches!(
            lease::status(&fx.lease_location()).unwrap(),
            LeaseState::Held {
                stale: Some(lease::StaleReason::Expired),
                ..
            }
        )
    });
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert!(
        field(&v, "recovered")
            .unwrap_or_default()
            .contains("ended 2 leftover process"),
        "{v:?}"
    );
    assert!(!pid_alive(sh) && !pid_alive(bg));
    gate.kill().unwrap();
    gate.wait().unwrap();
}

#[test]
fn gates_own_worktree_left_on_another_branch_is_moved_aside_and_the_next_gate_passes() {
    let fx = Fixture::new();
    git(
        &fx.work,
        &["worktree", "remove", fx.task_wt.to_str().unwrap()],
    );
    // The test switches the gate's own worktree to another branch: FAIL.
    let (out, v) = fx.run_gate("git checkout -q -b other", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    let gate_wt = PathBuf::from(field(&v, "worktree").unwrap());
    assert_eq!(git(&gate_wt, &["symbolic-ref", "HEAD"]), "refs/heads/other");
    // The next run is not wedged by the worktree in its way.
    let (out, v) = fx.run_gate("test -f c.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert_eq!(field(&v, "worktree"), Some(gate_wt.display().to_string()));
    assert!(
        field(&v, "recovered")
            .unwrap_or_default()
            .contains("moved aside"),
        "{v:?}"
    );
    assert_eq!(git(&gate_wt, &["symbolic-ref", "HEAD"]), "refs/heads/task");
}

#[test]
fn tracked_changes_left_in_the_gates_own_worktree_are_reset_by_the_next_run() {
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
    // A killed test command left a tracked file modified.
    write(&gate_wt, "a.txt", "half-written\n");
    let (out, v) = fx.run_gate("grep -q alpha a.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert!(
        field(&v, "recovered")
            .unwrap_or_default()
            .contains("reset tracked changes"),
        "{v:?}"
    );
    assert_eq!(git(&gate_wt, &["status", "--porcelain"]), "");
}
