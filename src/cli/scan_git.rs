//! `portcullis scan git`: history (all refs or ranges), staged changes or the work tree.
//!
//! Configuration, report formats, `.gitleaksignore`, baselines and exit codes are those of
//! `scan dir`: 0 no findings, `--exit-code` (default 1) findings, 2 errors (including objects
//! that could not be read: the scan is then incomplete).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::scan::ScanCommon;
use crate::detect::{DetectOptions, Detector, Suppressions};
use crate::report::Finding;
use crate::report::format::ReportFormat;
use crate::report::sarif::SarifRule;
use crate::report::summary::{ScanSummary, render_summary, use_color};
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

/// Build the detector for a scan of `target` (config discovery as `scan dir`).
fn load_detector(common: &ScanCommon, target: &Path) -> Result<Detector, String> {
    let (config, _origin) = crate::rules::discover_config(common.config.as_deref(), target)
        .map_err(|e| e.to_string())?;
    for w in config.warnings() {
        if !common.quiet {
            eprintln!("portcullis: warning: {w}");
        }
    }
    let opts = DetectOptions {
        max_decode_depth: common.max_decode_depth,
        max_target_megabytes: common.max_target_megabytes,
        ignore_gitleaks_allow: common.ignore_gitleaks_allow,
        redact: common.redact,
        enable_rules: common.enable_rule.clone(),
    };
    Detector::new(config, opts).map_err(|e| e.to_string())
}

/// Ignore files as gitleaks merges them: `--gitleaks-ignore-path` (default: the current
/// directory) and `<repo>/.gitleaksignore`.
fn load_suppressions(common: &ScanCommon, repo: &Path) -> Result<Suppressions, String> {
    let mut files = vec![
        common
            .gitleaks_ignore_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(".")),
    ];
    if repo.is_dir() {
        files.push(repo.to_path_buf());
    }
    files.dedup();
    let s =
        Suppressions::load(&files, common.baseline_path.as_deref()).map_err(|e| e.to_string())?;
    Ok(s.with_redaction(common.redact.is_some_and(|p| p > 0)))
}

/// Write the report (if requested) and the verbose finding list.
fn emit(common: &ScanCommon, detector: &Detector, findings: &[Finding]) -> Result<(), String> {
    if common.verbose {
        for f in findings {
            println!(
                "{}:{}: {} ({}) commit {} fingerprint {}",
                f.file, f.start_line, f.rule_id, f.description, f.commit, f.fingerprint
            );
        }
    }
    let Some(path) = &common.report_path else {
        return Ok(());
    };
    let format = ReportFormat::choose(common.report_format.as_deref(), Some(path))?;
    let rules: Vec<SarifRule> = detector
        .config()
        .rules()
        .iter()
        .map(|r| SarifRule {
            id: r.id.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
        })
        .collect();
    let text = format.render(findings, &rules);
    if path.as_os_str() == "-" {
        print!("{text}");
        Ok(())
    } else {
        crate::report::frontmatter::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("cannot write report {}: {e}", path.display()))
    }
}

/// Run `scan git`.
pub fn run(args: GitArgs) -> i32 {
    let start = Instant::now();
    let common = &args.common;
    let detector = match load_detector(common, &args.repo) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let suppressions = match load_suppressions(common, &args.repo) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let history = !args.staged && !args.uncommitted;
    let all_refs = history && args.range.is_empty() && args.since_commit.is_none();
    let opts = GitScanOptions {
        revs: args.range.clone(),
        dedup: if args.no_dedup {
            false
        } else {
            args.dedup || all_refs
        },
        max_target_megabytes: common.max_target_megabytes,
        progress: !common.quiet,
        staged: args.staged,
        uncommitted: args.uncommitted,
        since_commit: args.since_commit.clone(),
    };
    let report: GitScanReport = match scan_history(&args.repo, &detector, &opts) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    if !common.quiet {
        for w in report.warnings.iter().chain(suppressions.warnings()) {
            eprintln!("portcullis: warning: {w}");
        }
    }
    for e in &report.errors {
        eprintln!("portcullis: error: {e}");
    }
    let findings: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| !suppressions.is_suppressed(f))
        .cloned()
        .collect();
    if let Err(e) = emit(common, &detector, &findings) {
        return super::fail(e);
    }
    if !common.quiet {
        let (items, noun) = if history {
            (report.commits_scanned, "commits")
        } else {
            (report.stats.changes, "changed files")
        };
        let s = &report.stats;
        eprintln!(
            "portcullis: git: {} commits scanned, {} bytes, {} changes ({} distinct), {} blobs read, {} candidates, skipped: {} binary, {} LFS pointers, {} oversize, {} submodules",
            report.commits_scanned,
            report.bytes_scanned,
            s.changes,
            s.distinct_changes,
            s.blobs_read,
            s.candidates,
            s.binary_skipped,
            s.lfs_pointers_skipped,
            s.oversize_skipped,
            s.submodules_skipped
        );
        let summary = ScanSummary {
            target: format!("git repository {}", args.repo.display()),
            items_scanned: items,
            item_noun: noun.into(),
            bytes_scanned: report.bytes_scanned,
            elapsed: start.elapsed(),
            report_path: common.report_path.as_ref().map(|p| p.display().to_string()),
            errors: report.errors.len(),
        };
        eprint!(
            "{}",
            render_summary(&summary, &findings, use_color(common.no_color))
        );
    }
    if !report.errors.is_empty() {
        super::EXIT_ERROR
    } else if !findings.is_empty() {
        common.exit_code
    } else {
        0
    }
}
