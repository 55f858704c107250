//! Running the git CLI for the merge gate: a fixed, hook-free, prompt-free configuration.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::proc::{GroupRecorder, ProcError, RunEnd, run_bounded};

/// Bound on any single git command (fetch and push included).
pub(crate) const GIT_TIMEOUT: Duration = Duration::from_secs(600);

/// Output of one git command.
#[derive(Debug)]
pub(crate) struct GitOut {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl GitOut {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Why a git command of the merge gate failed; the message names the command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitCmdError {
    /// git could not be run to its end.
    #[error("{command}: {source}")]
    Run {
        /// `git <args>`.
        command: String,
        /// Why.
        #[source]
        source: Box<ProcError>,
    },
    /// git ran longer than its bound and was killed.
    #[error("{command}: timed out after {secs}s")]
    TimedOut {
        /// `git <args>`.
        command: String,
        /// The bound in seconds.
        secs: u64,
    },
    /// The run was stopped.
    #[error("{command}: stopped")]
    Stopped {
        /// `git <args>`.
        command: String,
    },
    /// git exited unsuccessfully where success was required.
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        /// `git <args>`.
        command: String,
        /// `exit N` or `signal`.
        status: String,
        /// git's first stderr lines.
        stderr: String,
    },
    /// git answered with an exit status the query does not define.
    #[error("{command}: {stderr}")]
    Unexpected {
        /// `git <args>`.
        command: String,
        /// git's first stderr lines.
        stderr: String,
    },
}

/// For the gate's steps, which give errors to the report as one-line reasons.
impl From<GitCmdError> for String {
    fn from(e: GitCmdError) -> String {
        e.to_string()
    }
}

/// Git runner bound to one working directory.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    pub dir: PathBuf,
    /// Record each command's process group next to the lease while it runs.
    record: Option<GroupRecorder>,
}

/// Environment variables that would redirect git away from `-C <dir>`.
const SCRUB: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// Remove variables that would make a child git process act on another repository.
pub(crate) fn scrub_git_env(cmd: &mut Command) {
    for v in SCRUB {
        cmd.env_remove(v);
    }
}

impl Git {
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git {
            dir: dir.into(),
            record: None,
        }
    }

    /// This runner, recording the process group of every command next to the lease (for
    /// the commands that change the worktree: a gate killed meanwhile leaves them findable).
    pub fn recorded(mut self, record: Option<GroupRecorder>) -> Git {
        self.record = record;
        self
    }

    /// Run `git <args>` in `self.dir`; `Err` only if git could not be run at all.
    pub fn run(&self, args: &[&str]) -> Result<GitOut, GitCmdError> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir);
        for c in [
            "rerere.enabled=false",
            "rebase.autoStash=false",
            "rebase.updateRefs=false",
            "rebase.autoSquash=false",
            "commit.gpgSign=false",
            "core.hooksPath=/dev/null",
            "advice.detachedHead=false",
            "pull.rebase=false",
        ] {
            cmd.arg("-c").arg(c);
        }
        cmd.args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_EDITOR", "true")
            .env("GIT_SEQUENCE_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .env("LC_ALL", "C")
            .env("LANGUAGE", "C");
        scrub_git_env(&mut cmd);
        let what = format!("git {}", args.join(" "));
        let label = format!("git {}", args.first().copied().unwrap_or_default());
        let record = self.record.as_ref().map(|r| (r, label.as_str()));
        let run = run_bounded(cmd, GIT_TIMEOUT, &mut || true, record).map_err(|source| {
            GitCmdError::Run {
                command: what.clone(),
                source: Box::new(source),
            }
        })?;
        let code = match run.end {
            RunEnd::Exited(c) => c,
            RunEnd::TimedOut => {
                return Err(GitCmdError::TimedOut {
                    command: what,
                    secs: GIT_TIMEOUT.as_secs(),
                });
            }
            RunEnd::Stopped => return Err(GitCmdError::Stopped { command: what }),
        };
        Ok(GitOut {
            code,
            stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&run.output).into_owned(),
        })
    }

    /// Run and require success; the error carries git's first stderr lines.
    pub fn check(&self, args: &[&str]) -> Result<String, GitCmdError> {
        let out = self.run(args)?;
        if out.ok() {
            Ok(out.stdout.trim_end().to_string())
        } else {
            Err(GitCmdError::Failed {
                command: format!("git {}", args.join(" ")),
                status: out
                    .code
                    .map_or("signal".to_string(), |c| format!("exit {c}")),
                stderr: first_lines(&out.stderr, 4),
            })
        }
    }

    /// Resolve a revision to a full commit id, or `None` if it does not exist.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>, GitCmdError> {
        let spec = format!("{rev}^{{commit}}");
        let out = self.run(&["rev-parse", "--verify", "--quiet", &spec])?;
        Ok(out
            .ok()
            .then(|| out.stdout.trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// `git merge-base --is-ancestor a b`: `Ok(true/false)`, or an error for anything else.
    pub fn is_ancestor(&self, a: &str, b: &str) -> Result<bool, GitCmdError> {
        let out = self.run(&["merge-base", "--is-ancestor", a, b])?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(GitCmdError::Unexpected {
                command: format!("git merge-base --is-ancestor {a} {b}"),
                stderr: first_lines(&out.stderr, 3),
            }),
        }
    }

    /// The branch HEAD names (`refs/heads/...`), or `None` when HEAD is detached.
    pub fn head_branch(&self) -> Result<Option<String>, GitCmdError> {
        let out = self.run(&["symbolic-ref", "-q", "HEAD"])?;
        match out.code {
            Some(0) => Ok(Some(out.stdout.trim().to_string()).filter(|s| !s.is_empty())),
            Some(1) => Ok(None),
            _ => Err(GitCmdError::Unexpected {
                command: "git symbolic-ref -q HEAD".into(),
                stderr: first_lines(&out.stderr, 3),
            }),
        }
    }

    /// Where HEAD is: the branch it names (if any) and the commit.
    pub fn head(&self) -> Result<Head, GitCmdError> {
        Ok(Head {
            branch: self.head_branch()?,
            commit: self.commit_of("HEAD")?,
        })
    }

    /// Commits of `head` whose change `upstream` lacks (`git cherry upstream head`, the `+`
    /// lines): a commit counts as present when `upstream` has one with the same patch id,
    /// as after a rebase.
    pub fn commits_missing_from(
        &self,
        upstream: &str,
        head: &str,
    ) -> Result<Vec<String>, GitCmdError> {
        let out = self.check(&["cherry", upstream, head])?;
        Ok(out
            .lines()
            .filter_map(|l| l.strip_prefix("+ "))
            .map(str::to_string)
            .collect())
    }

    /// Tracked-file changes (staged or not) in this worktree, as `git status` lines.
    pub fn tracked_changes(&self) -> Result<Vec<String>, GitCmdError> {
        let s = self.check(&["status", "--porcelain", "--untracked-files=no"])?;
        Ok(s.lines().map(str::to_string).collect())
    }

    /// True while a rebase (merge or apply backend) is in progress in this worktree.
    pub fn rebase_in_progress(&self) -> Result<bool, GitCmdError> {
        for p in ["rebase-merge", "rebase-apply"] {
            if self.git_path(p)?.exists() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Absolute path of `name` inside this worktree's git directory (`git rev-parse
    /// --git-path`; per-worktree names resolve to the linked worktree's own directory).
    pub fn git_path(&self, name: &str) -> Result<PathBuf, GitCmdError> {
        let path = self.check(&["rev-parse", "--path-format=absolute", "--git-path", name])?;
        Ok(PathBuf::from(path))
    }

    /// The operation left in progress in this worktree, if any.
    pub fn operation_in_progress(&self) -> Result<Option<Operation>, GitCmdError> {
        for dir in ["rebase-merge", "rebase-apply"] {
            let d = self.git_path(dir)?;
            if d.exists() {
                let read = |f: &str| {
                    std::fs::read_to_string(d.join(f))
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default()
                };
                return Ok(Some(Operation::Rebase {
                    head_name: read("head-name"),
                    orig_head: read("orig-head"),
                }));
            }
        }
        for (file, op) in [
            ("MERGE_HEAD", Operation::Merge),
            ("CHERRY_PICK_HEAD", Operation::CherryPick),
            ("REVERT_HEAD", Operation::Revert),
        ] {
            if self.git_path(file)?.exists() {
                return Ok(Some(op));
            }
        }
        Ok(None)
    }
}

/// Where a worktree's HEAD is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The branch HEAD names (`refs/heads/...`); `None` when detached.
    pub branch: Option<String>,
    /// The commit HEAD resolves to; `None` on an unborn branch.
    pub commit: Option<String>,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let commit = self
            .commit
            .as_deref()
            .map_or("(no commit)", |c| super::short(c));
        match &self.branch {
            Some(b) => write!(
                f,
                "{} at {commit}",
                b.strip_prefix("refs/heads/").unwrap_or(b)
            ),
            None => write!(f, "detached HEAD at {commit}"),
        }
    }
}

/// A git operation in progress in a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    /// A rebase: the branch it rebases (`refs/heads/...`, empty if unknown) and its tip before.
    Rebase {
        head_name: String,
        orig_head: String,
    },
    Merge,
    CherryPick,
    Revert,
}

impl Operation {
    /// The git command that names it (`rebase`, `merge`, `cherry-pick`, `revert`).
    pub fn command(&self) -> &'static str {
        match self {
            Operation::Rebase { .. } => "rebase",
            Operation::Merge => "merge",
            Operation::CherryPick => "cherry-pick",
            Operation::Revert => "revert",
        }
    }
}

/// The first `n` non-empty lines of `s`, joined with " | ".
pub(crate) fn first_lines(s: &str, n: usize) -> String {
    let v: Vec<&str> = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect();
    if v.is_empty() {
        "(no output)".into()
    } else {
        v.join(" | ")
    }
}

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone)]
pub(crate) struct WorktreeEntry {
    pub path: PathBuf,
    pub branch: Option<String>,
    pub prunable: bool,
}

pub(crate) fn worktrees(git: &Git) -> Result<Vec<WorktreeEntry>, GitCmdError> {
    let text = git.check(&["worktree", "list", "--porcelain"])?;
    let mut out = Vec::new();
    let mut cur: Option<WorktreeEntry> = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            if let Some(c) = cur.take() {
                out.push(c);
            }
            cur = Some(WorktreeEntry {
                path: PathBuf::from(p),
                branch: None,
                prunable: false,
            });
        } else if let Some(b) = line.strip_prefix("branch ") {
            if let Some(c) = cur.as_mut() {
                c.branch = Some(b.to_string());
            }
        } else if line.starts_with("prunable")
            && let Some(c) = cur.as_mut()
        {
            c.prunable = true;
        }
    }
    if let Some(c) = cur.take() {
        out.push(c);
    }
    Ok(out)
}
