//! Git hook entry points: `portcullis hook pre-push` and `portcullis hook audit`, and the
//! gitleaks spellings `portcullis git …` and `portcullis protect …`.
//!
//! The staged-secrets hook needs no command of its own (`portcullis scan git --staged`).
//! These commands exist because a hook gets its input in a hook's way: pre-commit hands the
//! pushed range to a pre-push hook in `PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF` and the
//! changed files as arguments.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, Subcommand};

use super::scan_git::GitArgs;
use crate::audit::lockfile::LockFormat;
use crate::audit::{self, AuditOptions, report};

/// `portcullis hook` commands.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Scan the commits being pushed (pre-push hook).
    ///
    /// Under pre-commit the range is `PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF`; without those
    /// variables (a new branch, or a plain git hook) every commit reachable from HEAD that no
    /// remote-tracking branch contains. `--range` overrides both.
    PrePush(PrePushArgs),
    /// Audit the lockfiles given as arguments (pre-commit hook); other files are ignored.
    Audit(HookAuditArgs),
}

/// `hook pre-push` flags: those of `scan git`.
#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// `scan git` flags.
    #[command(flatten)]
    pub git: GitArgs,
}

/// `hook audit` flags.
#[derive(Debug, Args)]
pub struct HookAuditArgs {
    /// Changed files; those that are not lockfiles are ignored. None: audit the current directory.
    pub files: Vec<PathBuf>,
    /// Advisory source (RustSec dir, OSV dir or zip, PyPA YAML dir); repeatable.
    #[arg(long = "db", value_name = "PATH")]
    pub dbs: Vec<PathBuf>,
    /// Ignore an advisory id (or alias); repeatable.
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Leave development-only packages out.
    #[arg(long)]
    pub no_dev: bool,
    /// A degraded result (a source could not be used) is an error (exit 2).
    #[arg(long)]
    pub strict: bool,
    /// Do not print the table on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// gitleaks' `git` command (`gitleaks git --pre-commit --staged --redact -v`), so a gitleaks
/// hook works with the binary name changed.
#[derive(Debug, Args)]
pub struct GitleaksGitArgs {
    /// Scan the changes not yet committed (`git diff`); with `--staged`, the staged ones.
    #[arg(long)]
    pub pre_commit: bool,
    /// Accepted for gitleaks compatibility; portcullis prints no banner.
    #[arg(long, hide = true)]
    pub no_banner: bool,
    /// Accepted for gitleaks compatibility; ignored.
    #[arg(short = 'l', long, hide = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Accepted for gitleaks compatibility; ignored.
    #[arg(long, hide = true, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// `scan git` flags.
    #[command(flatten)]
    pub git: GitArgs,
}

/// gitleaks' older `protect` command (`gitleaks protect --staged`): changes not yet committed.
#[derive(Debug, Args)]
pub struct ProtectArgs {
    /// Repository (gitleaks' `--source`); overrides the positional REPO.
    #[arg(short = 's', long, value_name = "PATH")]
    pub source: Option<PathBuf>,
    /// Accepted for gitleaks compatibility; portcullis prints no banner.
    #[arg(long, hide = true)]
    pub no_banner: bool,
    /// Accepted for gitleaks compatibility; ignored.
    #[arg(short = 'l', long, hide = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// `scan git` flags.
    #[command(flatten)]
    pub git: GitArgs,
}

/// Run a `hook` command.
pub fn run(cmd: HookCommand) -> i32 {
    match cmd {
        HookCommand::PrePush(a) => run_pre_push(a),
        HookCommand::Audit(a) => run_audit(&a),
    }
}

/// `portcullis git`: `--pre-commit` scans the work tree's changes (`--staged`: the index's);
/// without it, history as `scan git` does.
pub fn run_gitleaks_git(args: GitleaksGitArgs) -> i32 {
    let mut git = args.git;
    if args.pre_commit && !git.staged {
        git.uncommitted = true;
    }
    super::scan_git::run(git)
}

/// `portcullis protect`: the staged changes with `--staged`, else the uncommitted ones.
pub fn run_protect(args: ProtectArgs) -> i32 {
    let mut git = args.git;
    if let Some(s) = args.source {
        git.repo = s;
    }
    if !git.staged {
        git.uncommitted = true;
    }
    super::scan_git::run(git)
}

/// The revisions a pre-push scan covers, from pre-commit's variables or the remote-tracking
/// branches of `repo`.
fn pre_push_revs(repo: &Path) -> Result<Vec<String>, String> {
    let from = std::env::var("PRE_COMMIT_FROM_REF").unwrap_or_default();
    let to = std::env::var("PRE_COMMIT_TO_REF").unwrap_or_default();
    let zero = |s: &str| s.is_empty() || s.bytes().all(|b| b == b'0');
    if !zero(&from) && !zero(&to) {
        return Ok(vec![format!("{from}..{to}")]);
    }
    let head = if zero(&to) { "HEAD".to_string() } else { to };
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["for-each-ref", "--format=%(objectname)", "refs/remotes/"])
        .output()
        .map_err(|e| format!("{}: cannot run git for-each-ref: {e}", repo.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{}: git for-each-ref failed: {}",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut revs = vec![head];
    let mut seen = std::collections::BTreeSet::new();
    for id in String::from_utf8_lossy(&out.stdout).lines() {
        let id = id.trim();
        if !id.is_empty() && seen.insert(id.to_string()) {
            revs.push(format!("^{id}"));
        }
    }
    Ok(revs)
}

fn run_pre_push(args: PrePushArgs) -> i32 {
    let mut git = args.git;
    if git.range.is_empty() && git.log_opts.is_none() && git.since_commit.is_none() {
        match pre_push_revs(&git.repo) {
            Ok(revs) => git.range = revs,
            Err(e) => return super::fail(e),
        }
    }
    git.no_dedup = true;
    super::scan_git::run(git)
}

fn run_audit(args: &HookAuditArgs) -> i32 {
    let opts = AuditOptions {
        dbs: args.dbs.clone(),
        no_dev: args.no_dev,
        ignore: args.ignore.clone(),
        strict: args.strict,
        ..AuditOptions::default()
    };
    let targets: Vec<PathBuf> = if args.files.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.files
            .iter()
            .filter(|f| LockFormat::detect(f).is_some())
            .cloned()
            .collect()
    };
    let mut status = 0;
    for t in &targets {
        let code = match audit::audit_path(t, &opts) {
            Ok(r) => {
                if !args.quiet {
                    eprintln!("== {}", t.display());
                    eprint!("{}", report::to_table(&r));
                }
                r.exit_code()
            }
            Err(e) => super::fail(format_args!("audit: {e}")),
        };
        status = worse(status, code);
    }
    status
}

/// The more severe of two exit statuses (2 error > 1 findings > 0 clean).
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        1 => 1,
        _ => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::worse;

    #[test]
    fn errors_outrank_findings_outrank_clean() {
        assert_eq!(worse(0, 1), 1);
        assert_eq!(worse(1, 0), 1);
        assert_eq!(worse(1, 2), 2);
        assert_eq!(worse(2, 1), 2);
        assert_eq!(worse(0, 0), 0);
    }
}
