//! Shared fixture for the merge gate and lease tests: a bare `origin`, a `seed` clone that
//! plays "the rest of the team" (advances main), and the agent's clone `work` with the task
//! branch checked out in its own linked worktree. Everything uses the real git CLI.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis::report::{Verdict, read_verdict};

pub const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Environment that isolates git from the machine's configuration and gives it an identity.
pub fn git_env(cmd: &mut Command) -> &mut Command {
    // Settings from the environment running the tests must not leak into the gate.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PORTCULLIS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
}

/// `git worktree add -b BRANCH DIR origin/main` in the clone `work`.
pub fn add_worktree(work: &Path, branch: &str, dir: &Path) {
    let dir = dir.to_str().unwrap();
    git(
        work,
        &["worktree", "add", "-q", "-b", branch, dir, "origin/main"],
    );
}

/// Run git in `dir`; panics with git's stderr on failure (test setup only).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args);
    git_env(&mut cmd);
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn write(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(p, text).unwrap();
}

pub fn commit_file(dir: &Path, file: &str, text: &str, msg: &str) -> String {
    write(dir, file, text);
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub origin: PathBuf,
    pub seed: PathBuf,
    pub work: PathBuf,
    pub task_wt: PathBuf,
    pub leases: PathBuf,
    pub report: PathBuf,
}

impl Fixture {
    /// origin with main = [a.txt, b.txt]; task branch `task` adds c.txt and changes nothing
    /// else, pushed to origin, checked out in the linked worktree `wt-task` of `work`.
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let origin = root.join("origin.git");
        let seed = root.join("seed");
        let work = root.join("work");
        let task_wt = root.join("wt-task");
        git(&root, &["init", "-q", "--bare", "-b", "main", "origin.git"]);
        git(&root, &["clone", "-q", origin.to_str().unwrap(), "seed"]);
        git(&seed, &["checkout", "-q", "-b", "main"]);
        write(&seed, "a.txt", "alpha\none\ntwo\nthree\n");
        git(&seed, &["add", "a.txt"]);
        commit_file(&seed, "b.txt", "bravo\n", "initial");
        git(&seed, &["push", "-q", "origin", "main"]);
        git(&root, &["clone", "-q", origin.to_str().unwrap(), "work"]);
        add_worktree(&work, "task", &task_wt);
        commit_file(&task_wt, "c.txt", "charlie\n", "task: add c");
        git(&task_wt, &["push", "-q", "origin", "task"]);
        let leases = root.join("leases");
        let report = root.join("merge-report.md");
        Fixture {
            tmp,
            origin,
            seed,
            work,
            task_wt,
            leases,
            report,
        }
    }

    /// Someone else lands a commit on origin/main.
    pub fn advance_main(&self, file: &str, text: &str) -> String {
        git(&self.seed, &["pull", "-q", "--ff-only", "origin", "main"]);
        let sha = commit_file(&self.seed, file, text, &format!("main: {file}"));
        git(&self.seed, &["push", "-q", "origin", "main"]);
        sha
    }

    pub fn origin_ref(&self, branch: &str) -> String {
        git(
            &self.origin,
            &["rev-parse", &format!("refs/heads/{branch}")],
        )
    }

    /// A `portcullis gate merge` command for branch `task` with this fixture's lease dir and
    /// report file.
    pub fn gate(&self, test: &str) -> Command {
        self.gate_for("task", test)
    }

    /// A `portcullis gate merge` command for `branch` of the agent's clone `work`.
    pub fn gate_for(&self, branch: &str, test: &str) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["gate", "merge", "--repo"])
            .arg(&self.work)
            .args(["--branch", branch, "--test", test, "--lease-dir"])
            .arg(&self.leases)
            .arg("--report-file")
            .arg(&self.report)
            .current_dir(self.tmp.path());
        git_env(&mut cmd);
        cmd
    }

    pub fn run_gate(&self, test: &str, extra: &[&str]) -> (Output, Verdict) {
        let out = self.gate(test).args(extra).output().unwrap();
        let v = read_verdict(&self.report);
        (out, v)
    }

    pub fn lease_location(&self) -> portcullis::lease::LeaseLocation {
        let key = portcullis::lease::repo_key(&self.work, "origin").unwrap();
        portcullis::lease::LeaseLocation::new(&self.leases, &key).unwrap()
    }

    pub fn lease_cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.arg("lease")
            .args(args)
            .arg("--repo")
            .arg(&self.work)
            .arg("--lease-dir")
            .arg(&self.leases);
        git_env(&mut cmd);
        cmd.output().unwrap()
    }
}

/// A string field of the verdict's frontmatter.
pub fn field(v: &Verdict, key: &str) -> Option<String> {
    let fm = v.frontmatter.as_ref()?;
    let val = fm.get(key)?;
    match val {
        serde_norway::Value::String(s) => Some(s.clone()),
        serde_norway::Value::Number(n) => Some(n.to_string()),
        serde_norway::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn list_field(v: &Verdict, key: &str) -> Vec<String> {
    v.frontmatter
        .as_ref()
        .and_then(|fm| fm.get(key))
        .and_then(|x| x.as_sequence())
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn describe(out: &Output, v: &Verdict) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}\nverdict: {:?}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        v
    )
}
