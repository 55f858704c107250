//! `portcullis scan git`: history (all refs or ranges), staged changes or the work tree.
//!
//! Configuration, report formats, `.gitleaksignore`, baselines and exit codes are those of
//! `scan dir`: 0 no findings, `--exit-code` (default 1) findings, 2 errors (including objects
//! that could not be read, and content not scanned: the scan is then incomplete).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::scan::{self, ScanCommon, ScanOutcome};
use crate::source::git::{GitScanOptions, GitScanReport, scan_history};

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

/// Run `scan git`.
pub fn run(args: GitArgs) -> i32 {
    let start = Instant::now();
    let common: &ScanCommon = &args.common;
    let detector = match scan::load_detector(common, &args.repo) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let suppressions = match scan::load_suppressions(common, &args.repo) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let mut revs = args.range.clone();
    if let Some(text) = &args.log_opts {
        match parse_log_opts(text) {
            Ok(r) => revs = r,
            Err(e) => return super::fail(e),
        }
    }
    let history = !args.staged && !args.uncommitted;
    let all_refs = history && revs.is_empty() && args.since_commit.is_none();
    let mut opts = GitScanOptions {
        revs,
        dedup: if args.no_dedup {
            false
        } else {
            args.dedup || all_refs
        },
        max_target_megabytes: common.max_target_megabytes,
        max_archive_depth: common.max_archive_depth,
        archive_limits: scan::source_options(common, false).archive_limits,
        progress: scan::show_progress(common),
        staged: args.staged,
        uncommitted: args.uncommitted,
        since_commit: args.since_commit.clone(),
        ..GitScanOptions::default()
    };
    super::git_tuning::apply_env(&mut opts);
    let report: GitScanReport = match scan_history(&args.repo, &detector, &opts) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    super::git_tuning::print_timings(&report);
    let s = &report.stats;
    if !common.quiet {
        eprintln!(
            "portcullis: git: {} commits scanned, {} bytes, {} changes ({} distinct), {} blobs read ({} binary, {} archives with {} members), {} candidates, {} streamed, skipped: {} LFS pointers, {} oversize, {} submodules",
            report.commits_scanned,
            report.bytes_scanned,
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
    let (items_scanned, noun) = if history {
        (report.commits_scanned, "commits")
    } else {
        (s.changes, "changed files")
    };
    let mut errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    let mut warnings = report.warnings;
    if let Some(line) = crate::source::incomplete_error(&report.incomplete) {
        errors.push(line);
        warnings.extend(report.incomplete);
    }
    let outcome = ScanOutcome {
        findings: report.findings,
        errors,
        warnings,
        target: format!("git repository {}", args.repo.display()),
        items_scanned,
        item_noun: noun.into(),
        bytes_scanned: report.bytes_scanned,
        elapsed: start.elapsed(),
    };
    scan::emit(common, detector.config(), &suppressions, outcome)
}

/// The revisions named by a gitleaks `--log-opts` string (empty = all refs), or an error naming
/// the first unsupported option.
fn parse_log_opts(text: &str) -> Result<Vec<String>, String> {
    let mut revs = Vec::new();
    let mut all = false;
    for tok in text.split_whitespace() {
        match tok {
            "--all" => all = true,
            "--full-history" | "-p" | "--patch" | "-U0" | "--unified=0" => {}
            "--" => {
                return Err(
                    "--log-opts: path limiting (`-- PATH`) is not supported; scan the whole history or use --range".into(),
                );
            }
            t if t.starts_with('-') => {
                return Err(format!(
                    "--log-opts: unsupported git-log option {t:?} (supported: revisions and ranges such as A..B, A...B, ^REV, and --all)"
                ));
            }
            t => revs.push(t.to_string()),
        }
    }
    if all && !revs.is_empty() {
        return Err(format!(
            "--log-opts: --all cannot be combined with revisions ({}); use --all alone or the revisions alone",
            revs.join(" ")
        ));
    }
    Ok(revs)
}

#[cfg(test)]
mod tests {
    use super::parse_log_opts;

    #[test]
    fn log_opts_subset() {
        assert_eq!(parse_log_opts("--all"), Ok(vec![]));
        assert_eq!(parse_log_opts(""), Ok(vec![]));
        assert_eq!(
            parse_log_opts(" -p --full-history  main..feature ^old "),
            Ok(vec!["main..feature".to_string(), "^old".to_string()])
        );
        assert!(
            parse_log_opts("--since=2024-01-01").is_err_and(|e| e.contains("--since=2024-01-01"))
        );
        assert!(parse_log_opts("HEAD -- src").is_err_and(|e| e.contains("-- PATH")));
        assert!(parse_log_opts("--all main").is_err_and(|e| e.contains("--all")));
    }
}
