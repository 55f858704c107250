//! `portcullis scan git`: history (all refs or ranges), staged changes or the work tree.
//!
//! Configuration, report formats, `.gitleaksignore`, baselines and exit codes are those of
//! `scan dir`: 0 no findings, `--exit-code` (default 1) findings, 2 errors (including objects
//! that could not be read, and content not scanned: the scan is then incomplete).

use std::path::PathBuf;

use clap::Args;

use super::scan_common::{ScanCommon, emit, request, run_request};
use crate::scan::{GitTarget, Target};

/// `scan git` flags.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repository to scan (a work tree, any directory inside one, or a bare repository).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Revisions to scan instead of all refs: `origin/main..HEAD`, `A...B`, `REV`, `^REV`, or
    /// several separated by spaces. Repeatable.
    #[arg(long = "range", value_name = "REVSPEC")]
    pub range: Vec<String>,
    /// gitleaks' `--log-opts` (git-log options), subset: revisions and ranges (`A..B`,
    /// `A...B`, `REV`, `^REV`), `--all`, and the no-ops `--full-history`, `-p`/`--patch`,
    /// `-U0`. Any other option (e.g. `--since`, `--author`, `-- PATH`) is an error.
    #[arg(
        long = "log-opts",
        value_name = "OPTS",
        allow_hyphen_values = true,
        conflicts_with_all = ["range", "since_commit", "staged", "uncommitted"]
    )]
    pub log_opts: Option<String>,
    /// Scan the staged changes (index against HEAD), e.g. in a pre-commit hook.
    #[arg(long, conflicts_with_all = ["range", "since_commit", "uncommitted"])]
    pub staged: bool,
    /// Scan uncommitted changes of tracked files (work tree against HEAD).
    #[arg(long, conflicts_with_all = ["range", "since_commit"])]
    pub uncommitted: bool,
    /// Only commits after REV (`REV..HEAD`, or added as `^REV` to --range).
    #[arg(long, value_name = "REV")]
    pub since_commit: Option<String>,
    /// One finding per (rule, secret, file) with the earliest commit and `CommitCount`
    /// (default for all-refs scans).
    #[arg(long, overrides_with = "no_dedup")]
    pub dedup: bool,
    /// Report every commit that introduces a secret (default for --range/--since-commit).
    #[arg(long, overrides_with = "dedup")]
    pub no_dedup: bool,
    /// Shared scan flags (boxed to keep the command enum small).
    #[command(flatten)]
    pub common: Box<ScanCommon>,
}

/// The library target selected by the `scan git` flags (`--log-opts` parsed into revisions).
pub fn git_target(args: &GitArgs) -> Result<GitTarget, String> {
    let mut target = GitTarget::new(args.repo.clone());
    target.revs = args.range.clone();
    if let Some(text) = &args.log_opts {
        target = target.with_log_opts(text).map_err(|e| e.to_string())?;
    }
    target.staged = args.staged;
    target.uncommitted = args.uncommitted;
    target.since_commit = args.since_commit.clone();
    target.dedup = if args.no_dedup {
        Some(false)
    } else if args.dedup {
        Some(true)
    } else {
        None
    };
    // History-scan tuning from the environment (cache sizes, pack passes, resident budget).
    super::git_tuning::apply_env(&mut target.options);
    Ok(target)
}

/// Run `scan git`.
pub fn run(args: GitArgs) -> i32 {
    let common: &ScanCommon = &args.common;
    let target = match git_target(&args) {
        Ok(t) => t,
        Err(e) => return super::fail(e),
    };
    let req = request(common, Target::Git(target));
    let report = match run_request(common, &req) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    super::git_tuning::print_timings(&report.stats.git_timings);
    if !common.quiet
        && let Some(s) = &report.stats.git
    {
        eprintln!(
            "portcullis: git: {} commits scanned, {} bytes, {} changes ({} distinct), {} blobs read ({} binary, {} archives with {} members), {} candidates, {} streamed, skipped: {} LFS pointers, {} oversize, {} submodules",
            report.stats.commits_scanned,
            report.stats.bytes_scanned,
            s.changes,
            s.distinct_changes,
            s.blobs_read,
            s.binary_scanned,
            s.archives_scanned,
            s.archive_members_scanned,
            s.candidates,
            s.blobs_streamed,
            s.lfs_pointers_skipped,
            s.oversize_skipped,
            s.submodules_skipped
        );
    }
    emit(common, report)
}
