//! The merge gate against real git repositories: a bare origin, clones, linked worktrees.

use crate::merge_gate_support;

use std::time::{Duration, Instant};

use merge_gate_support::*;
use portcullis::lease::{self, AcquireOptions, Acquisition, LeaseState};
use portcullis::report::Outcome;

fn held_record(fx: &Fixture) -> portcullis::lease::LeaseRecord {
    match lease::status(&fx.lease_location()).unwrap() {
        LeaseState::Held { record, stale } => {
            assert_eq!(stale, None, "lease should be live: {record:?}");
            record
        }
        LeaseState::Free => panic!("lease should be held"),
    }
}

fn assert_free(fx: &Fixture) {
    assert_eq!(
        lease::status(&fx.lease_location()).unwrap(),
        LeaseState::Free
    );
}

#[test]
fn up_to_date_branch_passes_without_a_push_and_keeps_the_lease() {
    let fx = Fixture::new();
    let task = fx.origin_ref("task");
    let main = fx.origin_ref("main");
    let (out, v) = fx.run_gate("test -f c.txt && test -f a.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(field(&v, "pushed").as_deref(), Some("false"));
    assert_eq!(field(&v, "rebased").as_deref(), Some("false"));
    assert_eq!(field(&v, "tested_sha"), Some(task.clone()));
    assert_eq!(field(&v, "base_sha"), Some(main.clone()));
    assert_eq!(fx.origin_ref("task"), task);
    assert_eq!(fx.origin_ref("main"), main);
    let rec = held_record(&fx);
    assert_eq!(
        field(&v, "fencing_token"),
        Some(rec.fencing_token.to_string())
    );
    assert_eq!(field(&v, "lease_nonce"), Some(rec.nonce.clone()));
    // The gate process has exited, yet the lease is still live: it is no longer bound to it.
    assert!(rec.process.is_none());
}

#[test]
fn behind_clean_branch_is_rebased_tested_and_pushed_while_main_stays_untouched() {
    let fx = Fixture::new();
    let old_task = fx.origin_ref("task");
    let new_main = fx.advance_main("d.txt", "delta\n");
    // The test sees the combined tree: main's d.txt and the task's c.txt.
    let (out, v) = fx.run_gate("test -f c.txt && test -f d.txt", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let new_task = fx.origin_ref("task");
    assert_ne!(new_task, old_task);
    assert_eq!(field(&v, "tested_sha"), Some(new_task.clone()));
    assert_eq!(field(&v, "base_sha"), Some(new_main.clone()));
    assert_eq!(field(&v, "pushed").as_deref(), Some("true"));
    assert_eq!(
        fx.origin_ref("main"),
        new_main,
        "main on origin must not move"
    );
    // The rebased branch sits directly on top of main and carries the task's change.
    assert_eq!(
        git(&fx.origin, &["rev-parse", &format!("{new_task}^")]),
        new_main
    );
    assert_eq!(
        git(&fx.origin, &["show", &format!("{new_task}:c.txt")]),
        "charlie"
    );
    // The agent's worktree has the rebased branch checked out.
    assert_eq!(git(&fx.task_wt, &["rev-parse", "HEAD"]), new_task);
    held_record(&fx);
}

#[test]
fn conflict_fails_naming_the_files_and_leaves_the_worktree_clean() {
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
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(field(&v, "reason").as_deref(), Some("conflict"));
    assert_eq!(list_field(&v, "conflict_files"), vec!["a.txt".to_string()]);
    assert_eq!(git(&fx.task_wt, &["status", "--porcelain"]), "");
    assert_eq!(git(&fx.task_wt, &["rev-parse", "HEAD"]), before);
    let rebase_dir = git(&fx.task_wt, &["rev-parse", "--git-path", "rebase-merge"]);
    assert!(!fx.task_wt.join(rebase_dir).exists());
    assert_eq!(fx.origin_ref("task"), before);
    assert_free(&fx);
}

#[test]
fn branches_green_alone_but_red_together_fail_with_the_output_tail() {
    let fx = Fixture::new();
    // Main adds a file the task's test forbids: each side is green alone.
    fx.advance_main("forbid.txt", "x\n");
    let test =
        "echo checking combined tree; if [ -f forbid.txt ]; then echo BROKEN-TOGETHER; exit 7; fi";
    let before = fx.origin_ref("task");
    let (out, v) = fx.run_gate(test, &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("tests_failed"));
    assert_eq!(field(&v, "test_exit_code").as_deref(), Some("7"));
    let tail = field(&v, "test_output_tail").unwrap();
    assert!(tail.contains("BROKEN-TOGETHER"), "{tail}");
    assert_eq!(fx.origin_ref("task"), before, "a red branch is not pushed");
    assert_free(&fx);
    let body = std::fs::read_to_string(&fx.report).unwrap();
    assert!(body.contains("BROKEN-TOGETHER"));
}

#[test]
fn test_timeout_kills_the_whole_process_group() {
    let fx = Fixture::new();
    let pidfile = fx.tmp.path().join("bg.pid");
    let test = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
    let t0 = Instant::now();
    let (out, v) = fx.run_gate(&test, &["--test-timeout", "1"]);
    assert!(t0.elapsed() < Duration::from_secs(30));
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("test_timeout"));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The background sleep was in the test's process group: it must be gone (or a zombie
    // about to be reaped by init).
    std::thread::sleep(Duration::from_millis(200));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
        .unwrap_or(false);
    assert!(!alive, "background child {pid} survived the timeout");
    assert_free(&fx);
}

#[test]
fn branch_moved_on_origin_meanwhile_fails_push_rejected() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    // While the gate tests, a second agent pushes to the same task branch on origin.
    let other = fx.tmp.path().join("other");
    git(
        fx.tmp.path(),
        &["clone", "-q", fx.origin.to_str().unwrap(), "other"],
    );
    git(&other, &["checkout", "-q", "task"]);
    let test = format!(
        "cd {} && echo more > e.txt && git add e.txt && git -c commit.gpgsign=false commit -qm meanwhile && git push -q origin task",
        other.display()
    );
    let (out, v) = fx.run_gate(&test, &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("push_rejected"));
    // The other agent's commit survives on origin.
    assert_eq!(fx.origin_ref("task"), git(&other, &["rev-parse", "HEAD"]));
    assert_free(&fx);
}

#[test]
fn busy_lease_defers_and_changes_nothing() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    let before = fx.origin_ref("task");
    let wt_head = git(&fx.task_wt, &["rev-parse", "HEAD"]);
    let loc = fx.lease_location();
    let mut opts = AcquireOptions::new("other-task", Duration::from_secs(600));
    opts.branch = Some("other".into());
    let Acquisition::Acquired(theirs) = lease::acquire(&loc, &opts).unwrap() else {
        panic!("setup: lease should be free")
    };
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Defer, "{}", describe(&out, &v));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(field(&v, "holder").as_deref(), Some("other-task"));
    assert_eq!(
        field(&v, "held_since"),
        Some(theirs.acquired_at.to_string())
    );
    let retry: u64 = field(&v, "retry_after_s").unwrap().parse().unwrap();
    assert!(
        (30..=45).contains(&retry),
        "default 30 s plus jitter, got {retry}"
    );
    assert_eq!(fx.origin_ref("task"), before);
    assert_eq!(git(&fx.task_wt, &["rev-parse", "HEAD"]), wt_head);
    assert_eq!(held_record(&fx), theirs);
}

#[test]
fn gate_killed_mid_run_leaves_a_lease_the_next_gate_reclaims() {
    let fx = Fixture::new();
    let pidfile = fx.tmp.path().join("test.pid");
    let test = format!("echo $$ > {}; exec sleep 60", pidfile.display());
    let mut gate = fx.gate(&test).spawn().unwrap();
    let t0 = Instant::now();
    while !pidfile.exists() || std::fs::read_to_string(&pidfile).unwrap().trim().is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "gate never started its test"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = held_record(&fx);
    assert_eq!(first.process.as_ref().map(|p| p.pid), Some(gate.id()));
    gate.kill().unwrap(); // SIGKILL
    gate.wait().unwrap();
    let sleeper: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The test process dies with the gate (parent-death signal): no manual cleanup.
    let t0 = Instant::now();
    while std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
        .is_ok_and(|s| !s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the test process outlived the gate"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    match lease::status(&fx.lease_location()).unwrap() {
        LeaseState::Held { stale, .. } => {
            assert_eq!(stale, Some(lease::StaleReason::HolderProcessGone))
        }
        LeaseState::Free => panic!("a killed gate cannot release its lease"),
    }
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let token: u64 = field(&v, "fencing_token").unwrap().parse().unwrap();
    assert!(token > first.fencing_token);
}

#[test]
fn expired_task_lease_is_reclaimed() {
    let fx = Fixture::new();
    let loc = fx.lease_location();
    let opts = AcquireOptions::new("crashed-pipeline", Duration::from_secs(1));
    let Acquisition::Acquired(old) = lease::acquire(&loc, &opts).unwrap() else {
        panic!()
    };
    assert!(matches!(
        lease::status(&loc).unwrap(),
        LeaseState::Held { stale: None, .. }
    ));
    std::thread::sleep(Duration::from_millis(1100));
    assert!(matches!(
        lease::status(&loc).unwrap(),
        LeaseState::Held {
            stale: Some(lease::StaleReason::Expired),
            ..
        }
    ));
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let token: u64 = field(&v, "fencing_token").unwrap().parse().unwrap();
    assert!(token > old.fencing_token);
    assert!(
        loc.dir()
            .join(format!(
                "{}.stale.{}",
                loc.lease_path().file_stem().unwrap().to_string_lossy(),
                old.nonce
            ))
            .exists(),
        "the stale lease is kept as a tombstone"
    );
}

#[test]
fn release_after_pass_is_holder_aware_and_idempotent() {
    let fx = Fixture::new();
    let (out, v) = fx.run_gate("true", &["--holder", "pipeline-7"]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let nonce = field(&v, "lease_nonce").unwrap();
    let wrong = fx.lease_cli(&["release", "--holder", "intruder"]);
    assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("\"refused\""));
    let wrong_nonce = fx.lease_cli(&["release", "--holder", "pipeline-7", "--nonce", "bogus"]);
    assert_eq!(wrong_nonce.status.code(), Some(1));
    assert_eq!(held_record(&fx).holder, "pipeline-7");
    for expect in ["\"released\"", "\"already_released\""] {
        let ok = fx.lease_cli(&["release", "--holder", "pipeline-7", "--nonce", &nonce]);
        assert_eq!(ok.status.code(), Some(0), "{ok:?}");
        assert!(
            String::from_utf8_lossy(&ok.stdout).contains(expect),
            "{ok:?}"
        );
    }
    assert_free(&fx);
}

#[test]
fn main_and_protected_refs_are_refused_whatever_the_arguments() {
    let fx = Fixture::new();
    let main = fx.origin_ref("main");
    let mut cmd = fx.gate("true");
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let i = args.iter().position(|a| a == "task").unwrap();
    let mut args2 = args.clone();
    args2[i] = "main".into();
    let out = std::process::Command::new(BIN)
        .args(&args2)
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .unwrap();
    let v = portcullis::report::read_verdict(&fx.report);
    assert_eq!(
        field(&v, "reason").as_deref(),
        Some("protected_ref"),
        "{}",
        describe(&out, &v)
    );
    assert_eq!(fx.origin_ref("main"), main);
    // A configured protected pattern, even with --main pointing elsewhere.
    let settings = fx.tmp.path().join("gate.toml");
    std::fs::write(&settings, "protected_refs = [\"ta*\"]\n").unwrap();
    cmd = fx.gate("true");
    let out = cmd
        .args(["--main", "main", "--settings"])
        .arg(&settings)
        .output()
        .unwrap();
    let v = portcullis::report::read_verdict(&fx.report);
    assert_eq!(
        field(&v, "reason").as_deref(),
        Some("protected_ref"),
        "{}",
        describe(&out, &v)
    );
    assert_free(&fx);
}

#[test]
fn missing_test_command_is_a_usage_error() {
    let fx = Fixture::new();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["gate", "merge", "--repo"])
        .arg(&fx.work)
        .args(["--branch", "task", "--lease-dir"])
        .arg(&fx.leases);
    git_env(&mut cmd);
    assert_eq!(cmd.output().unwrap().status.code(), Some(2));
}

#[test]
fn library_call_returns_the_verdict_read_back_from_the_report() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    let mut req = portcullis::gate::MergeRequest::new(&fx.work, "task");
    req.test_command = Some("exit 1".into());
    req.lease_dir = Some(fx.leases.clone());
    req.report_file = Some(fx.report.clone());
    // The library runs git with this process's environment: give the repository an
    // identity of its own for the rebase instead of changing the environment.
    git(&fx.work, &["config", "user.name", "Gate Test"]);
    git(&fx.work, &["config", "user.email", "gate@example.invalid"]);
    let v = portcullis::gate::merge(&req);
    assert_eq!(field(&v, "rebased").as_deref(), Some("true"), "{v:?}");
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(v.schema, "portcullis/merge-report/v1");
    assert_eq!(v, portcullis::report::read_verdict(&fx.report));
    assert_free(&fx);
}

#[test]
fn lease_taken_away_during_the_test_fails_lease_lost() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    let before = fx.origin_ref("task");
    // The test command releases the gate's lease behind its back (same holder id, no
    // nonce), then keeps running: the gate's renewal notices and stops it.
    let test = format!(
        "{BIN} lease release --repo {} --lease-dir {} --holder gate-x >/dev/null && sleep 20",
        fx.work.display(),
        fx.leases.display()
    );
    let t0 = Instant::now();
    let (out, v) = fx.run_gate(&test, &["--holder", "gate-x", "--ttl", "1"]);
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "the test was not stopped"
    );
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("lease_lost"));
    assert_eq!(
        fx.origin_ref("task"),
        before,
        "nothing is pushed without the lease"
    );
}

#[test]
fn branch_only_on_origin_gets_its_own_linked_worktree() {
    let fx = Fixture::new();
    // A fresh clone that has never checked the task branch out.
    git(
        fx.tmp.path(),
        &["clone", "-q", fx.origin.to_str().unwrap(), "fresh"],
    );
    let fresh = fx.tmp.path().join("fresh");
    let new_main = fx.advance_main("d.txt", "delta\n");
    let cmd = fx.gate("test -f c.txt && test -f d.txt");
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let i = args.iter().position(|a| a == "--repo").unwrap() + 1;
    let mut args2 = args.clone();
    args2[i] = fresh.display().to_string();
    let out = std::process::Command::new(BIN)
        .args(&args2)
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .unwrap();
    let v = portcullis::report::read_verdict(&fx.report);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    let wt = std::path::PathBuf::from(field(&v, "worktree").unwrap());
    assert_ne!(wt, fresh, "the branch gets its own worktree");
    assert!(wt.is_dir());
    assert_eq!(git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]), "task");
    assert_eq!(
        git(&fx.origin, &["rev-parse", "refs/heads/task^"]),
        new_main
    );
    // The main worktree of the clone is untouched.
    assert_eq!(
        git(&fresh, &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    drop(cmd);
}

#[test]
fn two_branches_that_only_break_together_cannot_both_reach_main() {
    let fx = Fixture::new();
    // task adds c.txt (from the fixture); task2 adds x.txt. The suite is green on each
    // branch alone and red when both files exist.
    let wt2 = fx.tmp.path().join("wt-task2");
    add_worktree(&fx.work, "task2", &wt2);
    commit_file(&wt2, "x.txt", "x-ray\n", "task2: add x");
    git(&wt2, &["push", "-q", "origin", "task2"]);
    let suite = "if [ -f c.txt ] && [ -f x.txt ]; then echo 'c and x clash'; exit 1; fi";

    // Gate 1 passes and holds the lease until its branch is merged.
    let out = fx.gate_for("task", suite).output().unwrap();
    let v1 = portcullis::report::read_verdict(&fx.report);
    assert_eq!(v1.outcome, Outcome::Pass, "{}", describe(&out, &v1));
    // Meanwhile gate 2 is deferred.
    let out = fx.gate_for("task2", suite).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    // The pipeline merges exactly tested_sha while main is still base_sha, then releases.
    let base = field(&v1, "base_sha").unwrap();
    let tested = field(&v1, "tested_sha").unwrap();
    git(
        &fx.work,
        &[
            "push",
            "-q",
            &format!("--force-with-lease=refs/heads/main:{base}"),
            "origin",
            &format!("{tested}:refs/heads/main"),
        ],
    );
    let nonce = field(&v1, "lease_nonce").unwrap();
    let holder = field(&v1, "holder").unwrap();
    let rel = fx.lease_cli(&["release", "--holder", &holder, "--nonce", &nonce]);
    assert_eq!(rel.status.code(), Some(0));
    // Gate 2 now catches up with the new main and catches the clash.
    let out = fx.gate_for("task2", suite).output().unwrap();
    let v2 = portcullis::report::read_verdict(&fx.report);
    assert_eq!(v2.outcome, Outcome::Fail, "{}", describe(&out, &v2));
    assert_eq!(field(&v2, "reason").as_deref(), Some("tests_failed"));
    assert!(
        field(&v2, "test_output_tail")
            .unwrap()
            .contains("c and x clash")
    );
    assert_eq!(
        fx.origin_ref("main"),
        tested,
        "only the first branch reached main"
    );
    assert_free(&fx);
}

#[test]
fn dirty_worktree_fails_without_touching_anything() {
    let fx = Fixture::new();
    fx.advance_main("d.txt", "delta\n");
    write(&fx.task_wt, "c.txt", "uncommitted edit\n");
    let before = fx.origin_ref("task");
    let (out, v) = fx.run_gate("true", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("git_error"));
    assert!(v.reasons[0].contains("uncommitted"), "{:?}", v.reasons);
    assert_eq!(
        std::fs::read_to_string(fx.task_wt.join("c.txt")).unwrap(),
        "uncommitted edit\n"
    );
    assert_eq!(fx.origin_ref("task"), before);
    assert_free(&fx);
}

#[test]
fn unknown_remote_is_a_git_error_verdict() {
    let fx = Fixture::new();
    let (out, v) = fx.run_gate("true", &["--remote", "nosuch"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("git_error"));
    assert!(!v.reasons.is_empty());
}

#[test]
fn unwritable_report_is_a_fail_and_does_not_leave_the_lease_held() {
    let fx = Fixture::new();
    let blocker = fx.tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"file").unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["gate", "merge", "--repo"])
        .arg(&fx.work)
        .args(["--branch", "task", "--test", "true", "--lease-dir"])
        .arg(&fx.leases)
        .arg("--report-file")
        .arg(blocker.join("merge-report.md"));
    git_env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict: FAIL"));
    assert_free(&fx);
}

/// A fake AWS access key id built at runtime (`AK` + `IA` + 16 base32 characters derived from
/// the clock), so no key-shaped literal exists in this source file.
fn fake_aws_key_parts() -> (String, String) {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut body = String::new();
    while body.len() < 16 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        body.push(B32[(seed % 32) as usize] as char);
    }
    // Distinct characters keep the key above the rule's entropy threshold.
    if body.chars().collect::<std::collections::HashSet<_>>().len() < 8 {
        body = "QZ7XPLM4RT2KW6HN".chars().rev().collect();
    }
    ("AK".to_string(), format!("IA{body}"))
}

#[test]
fn secrets_in_the_test_output_are_redacted_in_the_report() {
    let fx = Fixture::new();
    let (head, rest) = fake_aws_key_parts();
    let key = format!("{head}{rest}");
    // The shell joins the two halves: neither the command line nor this file holds the key.
    let test = format!(
        "echo start; echo \"aws_access_key_id={head}\"\"{rest}\"; echo done-testing; exit 4"
    );
    assert!(!test.contains(&key));
    let (out, v) = fx.run_gate(&test, &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(field(&v, "reason").as_deref(), Some("tests_failed"));
    let report = std::fs::read_to_string(&fx.report).unwrap();
    assert!(!report.contains(&key), "raw secret stored in the report");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&key));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&key));
    let tail = field(&v, "test_output_tail").unwrap();
    assert!(tail.contains("done-testing"), "{tail}");
    assert!(tail.contains("AKIA…REDACTED"), "{tail}");
    assert_eq!(field(&v, "test_output_redactions").as_deref(), Some("1"));
    assert!(
        v.reasons.iter().any(|r| r.contains("1 secret(s) redacted")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn clean_test_output_is_stored_unchanged_with_zero_redactions() {
    let fx = Fixture::new();
    let (out, v) = fx.run_gate("echo all-good-here", &[]);
    assert_eq!(v.outcome, Outcome::Pass, "{}", describe(&out, &v));
    assert_eq!(
        field(&v, "test_output_tail").as_deref(),
        Some("all-good-here")
    );
    assert_eq!(field(&v, "test_output_redactions").as_deref(), Some("0"));
}

#[test]
fn test_that_switches_the_worktree_to_another_branch_fails_as_moved_head() {
    let fx = Fixture::new();
    let before = fx.origin_ref("task");
    // Same commit, other branch: only the symbolic HEAD changes.
    let (out, v) = fx.run_gate("git checkout -q -b other", &[]);
    assert_eq!(v.outcome, Outcome::Fail, "{}", describe(&out, &v));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        v.reasons[0].contains("moved HEAD") && v.reasons[0].contains("other"),
        "{:?}",
        v.reasons
    );
    assert_eq!(fx.origin_ref("task"), before);
    assert_free(&fx);
}
