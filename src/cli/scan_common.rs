//! What `scan dir`, `scan stdin` and `scan git` share: the common flags, turning them into a
//! [`ScanRequest`], and printing a [`ScanReport`] (warnings, `--verbose` findings, the report
//! file, errors, the summary) with the exit status.
//!
//! ```text
//! let req = request(common, target);   // flags → library request
//! let report = scan::run(&req)?;       // config discovery, suppressions, scan, filters
//! return emit(common, report);         // report, summary, exit code
//! ```
//!
//! Exit codes: 0 clean, `--exit-code` (default 1) when findings remain after suppression,
//! 2 on any usage, configuration or I/O error (the report is still written first).

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::finding::{Confidence, Finding};
use crate::report::format::ReportFormat;
use crate::report::summary::{ScanSummary, render_summary, use_color};
use crate::scan::{ConfigChoice, ScanLimits, ScanReport, ScanRequest, SuppressionChoice, Target};

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
    /// Report only findings of at least this confidence: high, medium or low (default: all).
    #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
    pub min_confidence: Option<Confidence>,
}

/// Parse a `--min-confidence` value.
fn parse_confidence(s: &str) -> Result<Confidence, String> {
    s.parse()
}

/// The library request for `target` selected by the shared flags.
pub fn request(common: &ScanCommon, target: Target) -> ScanRequest {
    ScanRequest {
        target,
        config: match &common.config {
            Some(p) => ConfigChoice::Path(p.clone()),
            None => ConfigChoice::Discover,
        },
        suppressions: SuppressionChoice::Discover {
            ignore_path: common.gitleaks_ignore_path.clone(),
            baseline: common.baseline_path.clone(),
        },
        min_confidence: common.min_confidence,
        redact: common.redact,
        enable_rules: common.enable_rule.clone(),
        ignore_gitleaks_allow: common.ignore_gitleaks_allow,
        limits: ScanLimits {
            max_target_megabytes: common.max_target_megabytes,
            max_decode_depth: common.max_decode_depth,
            max_archive_depth: common.max_archive_depth,
            max_archive_megabytes: common.max_archive_megabytes,
        },
        progress: show_progress(common),
    }
}

/// Print a warning line on stderr.
pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("portcullis: warning: {msg}");
}

/// The report format chosen by `--report-format` / `--report-path`.
pub fn report_format(common: &ScanCommon) -> Result<ReportFormat, String> {
    ReportFormat::choose(
        common.report_format.as_deref(),
        common.report_path.as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// Check the flags that are not the library's (`--report-format`) and run the scan, printing
/// the configuration's and ignore files' warnings. Errors are one line naming the file.
pub fn run_request(common: &ScanCommon, req: &ScanRequest) -> Result<ScanReport, String> {
    report_format(common)?;
    let report = crate::scan::run(req).map_err(|e| e.to_string())?;
    for w in &report.setup_warnings {
        warn(w);
    }
    Ok(report)
}

/// Write the report to `--report-path` (`-` = stdout) in the chosen format. Without
/// `--report-path` nothing is written (as gitleaks).
pub fn write_report(common: &ScanCommon, report: &ScanReport) -> Result<(), String> {
    let Some(path) = &common.report_path else {
        return Ok(());
    };
    let text = report.render(report_format(common)?);
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

/// Warnings printed individually before the rest are only counted.
pub const MAX_WARNINGS_SHOWN: usize = 20;

/// Finish a scan: print warnings, `--verbose` findings, write the report, print errors and
/// the summary, and return the exit status (0 clean, `--exit-code` with findings, 2 with any
/// error — errors win over findings).
pub fn emit(common: &ScanCommon, report: ScanReport) -> i32 {
    let warnings = &report.warnings;
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
        print_verbose(&report.findings);
    }
    let mut errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    if let Err(e) = write_report(common, &report) {
        errors.push(e);
    }
    for e in &errors {
        eprintln!("portcullis: error: {e}");
    }
    if !common.quiet {
        let s = &report.stats;
        let summary = ScanSummary {
            target: s.target.clone(),
            items_scanned: s.items_scanned,
            item_noun: s.item_noun.clone(),
            bytes_scanned: s.bytes_scanned,
            elapsed: s.elapsed,
            report_path: common
                .report_path
                .as_ref()
                .and_then(|p| (p.as_os_str() != "-").then(|| p.display().to_string())),
            errors: errors.len(),
        };
        eprint!(
            "{}",
            render_summary(&summary, &report.findings, use_color(common.no_color))
        );
    }
    if !errors.is_empty() {
        super::EXIT_ERROR
    } else if !report.findings.is_empty() {
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
