//! `portcullis scan dir|stdin|git`.
//!
//! The helpers here are shared by every scan target so that `scan dir`, `scan stdin` and
//! `scan git` handle configuration, `.gitleaksignore`, baselines, reports, the summary and
//! exit codes identically:
//!
//! ```text
//! let detector = load_detector(common, target)?;        // config discovery + warnings
//! let suppressions = load_suppressions(common, target)?; // .gitleaksignore + baseline
//! ... scan, collecting findings / errors / warnings ...
//! return emit(common, detector.config(), &suppressions, outcome); // report, summary, exit code
//! ```
//!
//! Exit codes: 0 clean, `--exit-code` (default 1) when findings remain after suppression,
//! 2 on any usage, configuration or I/O error (the report is still written first).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::detect::{DetectOptions, Detector, Suppressions};
use crate::report::format::ReportFormat;
use crate::report::sarif::SarifRule;
use crate::report::summary::{ScanSummary, render_summary, use_color};
use crate::report::{Confidence, Finding};
use crate::rules::Config;
use crate::source::archive::ArchiveLimits;
use crate::source::{SourceOptions, SourceReport};

/// Scan targets.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Scan files under a directory (or one file).
    Dir(DirArgs),
    /// Scan standard input.
    Stdin(StdinArgs),
    /// Scan git history (commits, ranges, staged or uncommitted changes).
    Git(super::scan_git::GitArgs),
}

/// Flags shared by every scan target.
#[derive(Debug, Clone, Args)]
pub struct ScanCommon {
    /// Config file (gitleaks v8 TOML). Default: $PORTCULLIS_CONFIG, $GITLEAKS_CONFIG,
    /// TARGET/.gitleaks.toml, then the embedded default rules.
    #[arg(short = 'c', long)]
    pub config: Option<PathBuf>,
    /// Report format: json, sarif, csv or junit (default: from --report-path's extension, else json).
    #[arg(short = 'f', long)]
    pub report_format: Option<String>,
    /// Write the report here ('-' = stdout).
    #[arg(short = 'r', long)]
    pub report_path: Option<PathBuf>,
    /// Exit status when findings exist.
    #[arg(long, default_value_t = 1)]
    pub exit_code: i32,
    /// A previous JSON report: its findings are not reported again.
    #[arg(short = 'b', long)]
    pub baseline_path: Option<PathBuf>,
    /// A .gitleaksignore file, or a directory holding one.
    #[arg(short = 'i', long)]
    pub gitleaks_ignore_path: Option<PathBuf>,
    /// Redact secrets in output (optionally keep the first 100-PCT percent).
    #[arg(long, num_args = 0..=1, default_missing_value = "100", value_name = "PCT")]
    pub redact: Option<u8>,
    /// Do not scan inputs larger than this many megabytes (0 = no limit). Anything not
    /// scanned makes the scan incomplete: exit status 2.
    #[arg(long)]
    pub max_target_megabytes: Option<u64>,
    /// Decode base64/hex/percent-encoded segments up to this depth.
    #[arg(long, default_value_t = 5)]
    pub max_decode_depth: u32,
    /// Scan inside archives (zip, tar, gzip) up to this nesting depth (0 = do not open
    /// archives); an archive nested deeper makes the scan incomplete: exit status 2.
    #[arg(long, default_value_t = 2)]
    pub max_archive_depth: u32,
    /// Decompression-bomb guard: at most this many megabytes decompressed per file on disk
    /// (nested archives included); exceeding it is a scan error.
    #[arg(long, default_value_t = crate::source::archive::DEFAULT_MAX_ARCHIVE_MEGABYTES)]
    pub max_archive_megabytes: u64,
    /// Only run these rule ids (repeatable).
    #[arg(long = "enable-rule", value_name = "ID")]
    pub enable_rule: Vec<String>,
    /// Do not honour inline `gitleaks:allow` markers.
    #[arg(long)]
    pub ignore_gitleaks_allow: bool,
    /// Print each finding to stdout.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// No progress bar, no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Disable colour.
    #[arg(long)]
    pub no_color: bool,
    /// What SARIF's `%SRCROOT%` stands for (set by `scan dir`; not a flag).
    #[arg(skip)]
    pub sarif_root: Option<PathBuf>,
    /// Report only findings of at least this confidence: high, medium or low (default: all).
    #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
    pub min_confidence: Option<Confidence>,
}

/// Parse a `--min-confidence` value.
fn parse_confidence(s: &str) -> Result<Confidence, String> {
    s.parse()
}

/// `scan dir` flags.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Directory or file to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Follow symbolic links to files.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Also scan what `.gitignore` ignores (by default, inside a git work tree, ignored paths
    /// are left out, as ripgrep does; their count is in the summary).
    #[arg(long)]
    pub no_ignore: bool,
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// `scan stdin` flags.
#[derive(Debug, Args)]
pub struct StdinArgs {
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// Run a scan command.
pub fn run(cmd: ScanCommand) -> i32 {
    match cmd {
        ScanCommand::Git(a) => super::scan_git::run(a),
        ScanCommand::Dir(a) => run_dir(&a),
        ScanCommand::Stdin(a) => run_stdin(&a),
    }
}

/// The detector options selected by the shared scan flags.
pub fn detect_options(common: &ScanCommon) -> DetectOptions {
    DetectOptions {
        max_decode_depth: common.max_decode_depth,
        max_target_megabytes: common.max_target_megabytes,
        ignore_gitleaks_allow: common.ignore_gitleaks_allow,
        redact: common.redact,
        enable_rules: common.enable_rule.clone(),
    }
}

/// Print a warning line on stderr.
pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("portcullis: warning: {msg}");
}

/// Find the configuration for a scan of `target` (`--config`, `$PORTCULLIS_CONFIG`,
/// `$GITLEAKS_CONFIG`, `<target>/.gitleaks.toml`, embedded default), print its warnings on
/// stderr and build the detector. Also validates `--report-format` / `--report-path` up
/// front, so a bad flag fails before any scanning. Errors are one line naming the file.
pub fn load_detector(common: &ScanCommon, target: &Path) -> Result<Detector, String> {
    report_format(common)?;
    let (config, _origin) = crate::rules::discover_config(common.config.as_deref(), target)
        .map_err(|e| e.to_string())?;
    for w in config.warnings() {
        warn(w);
    }
    Detector::new(config, detect_options(common)).map_err(|e| e.to_string())
}

/// Load `.gitleaksignore` files and the baseline, as gitleaks merges them:
/// `--gitleaks-ignore-path` (a file, or a directory holding `.gitleaksignore`; default: the
/// current directory) plus `<target>/.gitleaksignore`. An explicit ignore path that does not
/// exist, an unreadable file or a baseline that is not a JSON report is an error.
pub fn load_suppressions(common: &ScanCommon, target: &Path) -> Result<Suppressions, String> {
    let mut files = Vec::new();
    match &common.gitleaks_ignore_path {
        Some(p) if !p.exists() => {
            return Err(format!(
                "{}: no such file or directory (--gitleaks-ignore-path)",
                p.display()
            ));
        }
        Some(p) => files.push(p.clone()),
        None => files.push(PathBuf::from(".")),
    }
    if target.is_dir() {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        };
        if !files.iter().any(|f| same(f, target)) {
            files.push(target.to_path_buf());
        }
    }
    if let Some(b) = &common.baseline_path
        && !b.is_file()
    {
        return Err(format!("{}: no such file (--baseline-path)", b.display()));
    }
    let s =
        Suppressions::load(&files, common.baseline_path.as_deref()).map_err(|e| e.to_string())?;
    for w in s.warnings() {
        warn(w);
    }
    Ok(s.with_redaction(common.redact.is_some_and(|p| p > 0)))
}

/// The report format chosen by `--report-format` / `--report-path`.
pub fn report_format(common: &ScanCommon) -> Result<ReportFormat, String> {
    ReportFormat::choose(
        common.report_format.as_deref(),
        common.report_path.as_deref(),
    )
}

/// The rules a SARIF report declares.
pub fn sarif_rules(config: &Config) -> Vec<SarifRule> {
    config
        .rules()
        .iter()
        .map(|r| SarifRule {
            id: r.id.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            confidence: r.confidence.unwrap_or_default(),
        })
        .collect()
}

/// Write the report to `--report-path` (`-` = stdout) in the chosen format. Without
/// `--report-path` nothing is written (as gitleaks).
pub fn write_report(
    common: &ScanCommon,
    config: &Config,
    findings: &[Finding],
) -> Result<(), String> {
    let Some(path) = &common.report_path else {
        return Ok(());
    };
    let format = report_format(common)?;
    let text = if format == ReportFormat::Sarif {
        let opts = crate::report::sarif::SarifOptions {
            src_root: common.sarif_root.clone(),
            include_secrets: false,
        };
        crate::report::sarif::render_sarif_with(findings, &sarif_rules(config), &opts)
    } else {
        format.render(findings, &sarif_rules(config))
    };
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: cannot write report: {e}"))
    } else {
        crate::report::frontmatter::write_scan_report(path, text.as_bytes())
            .map_err(|e| format!("{}: cannot write report: {e}", path.display()))
    }
}

/// `--verbose`: print each finding on stdout, as gitleaks does.
pub fn print_verbose(findings: &[Finding]) {
    let mut out = std::io::stdout().lock();
    for f in findings {
        let mut text = format!(
            "Finding:     {}\nSecret:      {}\nRuleID:      {}\nEntropy:     {:.6}\nFile:        {}\nLine:        {}\n",
            f.r#match, f.secret, f.rule_id, f.entropy, f.file, f.start_line
        );
        if !f.symlink_file.is_empty() {
            text.push_str(&format!("SymlinkFile: {}\n", f.symlink_file));
        }
        if !f.commit.is_empty() {
            text.push_str(&format!(
                "Commit:      {}\nAuthor:      {}\nEmail:       {}\nDate:        {}\n",
                f.commit, f.author, f.email, f.date
            ));
        }
        text.push_str(&format!("Fingerprint: {}\n\n", f.fingerprint));
        let _ = out.write_all(text.as_bytes());
    }
}

/// What a scan produced, handed to [`emit`].
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// Findings before `.gitleaksignore` / baseline suppression.
    pub findings: Vec<Finding>,
    /// Scan errors (each names its file); any error gives exit status 2.
    pub errors: Vec<String>,
    /// Notices printed on stderr (at most [`MAX_WARNINGS_SHOWN`], then a count).
    pub warnings: Vec<String>,
    /// For the summary: what was scanned (`directory repo`, `stdin`, ...).
    pub target: String,
    /// For the summary: number of items scanned.
    pub items_scanned: u64,
    /// For the summary: what the items are (`files`, `commits`).
    pub item_noun: String,
    /// For the summary: bytes scanned.
    pub bytes_scanned: u64,
    /// For the summary: scan time.
    pub elapsed: Duration,
}

/// Warnings printed individually before the rest are only counted.
pub const MAX_WARNINGS_SHOWN: usize = 20;

/// Finish a scan: drop suppressed findings, print warnings, `--verbose` findings, write the
/// report, print errors and the summary, and return the exit status (0 clean, `--exit-code`
/// with findings, 2 with any error — errors win over findings).
pub fn emit(
    common: &ScanCommon,
    config: &Config,
    suppressions: &Suppressions,
    outcome: ScanOutcome,
) -> i32 {
    let ScanOutcome {
        mut findings,
        mut errors,
        warnings,
        target,
        items_scanned,
        item_noun,
        bytes_scanned,
        elapsed,
    } = outcome;
    findings.retain(|f| !suppressions.is_suppressed(f));
    if let Some(min) = common.min_confidence {
        findings.retain(|f| f.confidence >= min);
    }
    for w in warnings.iter().take(MAX_WARNINGS_SHOWN) {
        warn(w);
    }
    if warnings.len() > MAX_WARNINGS_SHOWN {
        warn(format_args!(
            "... and {} more warnings",
            warnings.len() - MAX_WARNINGS_SHOWN
        ));
    }
    if common.verbose {
        print_verbose(&findings);
    }
    if let Err(e) = write_report(common, config, &findings) {
        errors.push(e);
    }
    for e in &errors {
        eprintln!("portcullis: error: {e}");
    }
    if !common.quiet {
        let summary = ScanSummary {
            target,
            items_scanned,
            item_noun,
            bytes_scanned,
            elapsed,
            report_path: common
                .report_path
                .as_ref()
                .and_then(|p| (p.as_os_str() != "-").then(|| p.display().to_string())),
            errors: errors.len(),
        };
        eprint!(
            "{}",
            render_summary(&summary, &findings, use_color(common.no_color))
        );
    }
    if !errors.is_empty() {
        super::EXIT_ERROR
    } else if !findings.is_empty() {
        common.exit_code
    } else {
        0
    }
}

/// Whether to draw a progress bar: not under `--quiet`, and not in CI (`CI` set to anything but
/// `false` or `0`), where stderr is a log; the bar itself also stays off when stderr is not a
/// terminal.
pub fn show_progress(common: &ScanCommon) -> bool {
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    !common.quiet && !in_ci
}

/// Source options from the shared flags.
pub fn source_options(common: &ScanCommon, follow_symlinks: bool) -> SourceOptions {
    SourceOptions {
        max_target_megabytes: common.max_target_megabytes.filter(|&n| n > 0),
        max_archive_depth: common.max_archive_depth,
        archive_limits: ArchiveLimits {
            max_member_bytes: common
                .max_target_megabytes
                .filter(|&n| n > 0)
                .map(|n| n.saturating_mul(1_000_000)),
            max_total_bytes: common.max_archive_megabytes.saturating_mul(1_000_000),
            ..ArchiveLimits::default()
        },
        follow_symlinks,
        skip_files: Vec::new(),
        threads: 0,
        respect_gitignore: false,
        progress: false,
    }
}

fn outcome_of(report: SourceReport, target: String, started: Instant) -> ScanOutcome {
    let mut errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    let mut warnings = report.warnings;
    if let Some(line) = crate::source::incomplete_error(&report.incomplete) {
        errors.push(line);
        warnings.extend(report.incomplete);
    }
    ScanOutcome {
        findings: report.findings,
        errors,
        warnings,
        target,
        items_scanned: report.files_scanned,
        item_noun: "files".into(),
        bytes_scanned: report.bytes_scanned,
        elapsed: started.elapsed(),
    }
}

/// `portcullis scan dir [PATH]`.
pub fn run_dir(args: &DirArgs) -> i32 {
    let started = Instant::now();
    let target = &args.path;
    let mut common = args.common.clone();
    common.sarif_root = Some(crate::report::sarif::source_root(target));
    let common = &common;
    if let Err(e) = std::fs::symlink_metadata(target) {
        return super::fail(format_args!("{}: cannot scan: {e}", target.display()));
    }
    let detector = match load_detector(common, target) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let suppressions = match load_suppressions(common, target) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let mut opts = source_options(common, args.follow_symlinks);
    opts.respect_gitignore = !args.no_ignore;
    opts.progress = show_progress(common);
    // gitleaks never scans its own config file (`--config`, else <target>/.gitleaks.toml)
    // nor the baseline.
    let config_file = match &common.config {
        Some(c) => c.clone(),
        None => target.join(".gitleaks.toml"),
    };
    opts.skip_files
        .push(config_file.to_string_lossy().replace('\\', "/"));
    if let Some(b) = &common.baseline_path {
        opts.skip_files.push(b.to_string_lossy().replace('\\', "/"));
    }
    let report = crate::source::dir::scan_dir(target, &detector, &opts);
    let kind = if target.is_dir() { "directory" } else { "file" };
    let left_out = match report.ignored {
        0 => String::new(),
        n => format!(" ({n} path(s) left out by .gitignore; --no-ignore scans them)"),
    };
    let what = format!("{kind} {}{left_out}", target.display());
    let outcome = outcome_of(report, what, started);
    emit(common, detector.config(), &suppressions, outcome)
}

/// `portcullis scan stdin`.
pub fn run_stdin(args: &StdinArgs) -> i32 {
    let started = Instant::now();
    let common = &args.common;
    // gitleaks looks for ./.gitleaks.toml when scanning stdin.
    let target = Path::new(".");
    let detector = match load_detector(common, target) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let suppressions = match load_suppressions(common, target) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let opts = source_options(common, false);
    let report = crate::source::stdin::scan_stdin(&detector, &opts);
    let outcome = outcome_of(report, "stdin".into(), started);
    emit(common, detector.config(), &suppressions, outcome)
}
