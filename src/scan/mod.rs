//! Scanning as a library call: one [`ScanRequest`] in, one [`ScanReport`] out.
//!
//! [`run`] does what `portcullis scan dir|stdin|git` does before it prints anything: it chooses
//! the configuration (`--config`, the environment, `<target>/.gitleaks.toml`, the embedded
//! rules), loads `.gitleaksignore` files and the baseline, scans the target, drops suppressed
//! findings and those below the minimum confidence, and gathers errors, warnings and the
//! content it could not scan. The CLI is a thin layer over it: it fills a request from its
//! flags, calls [`run`], prints and writes the report, and maps the result to an exit status.
//!
//! ```no_run
//! use portcullis::scan::{self, ScanRequest};
//!
//! let report = scan::run(&ScanRequest::dir("path/to/project"))?;
//! for f in &report.findings {
//!     println!("{}:{} {}", f.file, f.start_line, f.rule_id);
//! }
//! // Like the CLI's exit status 2: read errors and content not scanned fail the scan.
//! assert!(report.is_complete(), "{:?}", report.errors);
//! # Ok::<(), portcullis::scan::RunError>(())
//! ```

mod error;
mod git;
mod setup;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::source::{ScanError, ScanErrorKind};
pub use error::RunError;
pub use git::{GitTarget, LogOptsError, parse_log_opts};
pub use setup::{ConfigChoice, SuppressionChoice};

use crate::detect::{DetectOptions, Detector};
use crate::finding::{Confidence, Finding};
use crate::report::format::ReportFormat;
use crate::report::sarif::{SarifOptions, SarifRule};
use crate::rules::{Config, ConfigOrigin};
use crate::source::archive::{ArchiveLimits, DEFAULT_MAX_ARCHIVE_MEGABYTES};
use crate::source::git::{DEFAULT_MAX_ARCHIVE_DEPTH, GitScanOptions, GitScanStats, scan_history};
use crate::source::{SourceOptions, SourceReport};

/// What to scan.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one target per request, built once per scan"
)]
pub enum Target {
    /// Files under a directory, or one file (`scan dir`).
    Dir(DirTarget),
    /// The process' standard input (`scan stdin`).
    Stdin,
    /// Bytes in memory, scanned as `scan stdin` scans its input (`File` is empty).
    Bytes(Vec<u8>),
    /// Git history, the index or the work tree (`scan git`).
    Git(GitTarget),
}

/// A directory (or file) to scan.
#[derive(Debug, Clone)]
pub struct DirTarget {
    /// The directory or file.
    pub path: PathBuf,
    /// Follow symbolic links to files (`--follow-symlinks`).
    pub follow_symlinks: bool,
    /// Inside a git work tree, leave out what `.gitignore` ignores (default; `--no-ignore`
    /// turns it off).
    pub respect_gitignore: bool,
}

impl DirTarget {
    /// `path` with the CLI's defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DirTarget {
            path: path.into(),
            follow_symlinks: false,
            respect_gitignore: true,
        }
    }
}

/// Size and depth limits of a scan (the CLI's defaults by [`Default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanLimits {
    /// Do not scan inputs larger than this many megabytes (`Some(0)` or `None` = no limit);
    /// anything not scanned makes the scan incomplete.
    pub max_target_megabytes: Option<u64>,
    /// Decode base64/hex/percent-encoded segments up to this depth.
    pub max_decode_depth: u32,
    /// Open archives up to this nesting depth (0 = do not open archives).
    pub max_archive_depth: u32,
    /// At most this many megabytes decompressed per file on disk.
    pub max_archive_megabytes: u64,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            max_target_megabytes: None,
            max_decode_depth: DetectOptions::default().max_decode_depth,
            max_archive_depth: DEFAULT_MAX_ARCHIVE_DEPTH,
            max_archive_megabytes: DEFAULT_MAX_ARCHIVE_MEGABYTES,
        }
    }
}

/// Everything a scan needs: the target and the choices the `scan` flags make.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// What to scan.
    pub target: Target,
    /// Which configuration to use.
    pub config: ConfigChoice,
    /// Which `.gitleaksignore` files and baseline suppress findings.
    pub suppressions: SuppressionChoice,
    /// Report only findings of at least this confidence (`None` = all).
    pub min_confidence: Option<Confidence>,
    /// Redact secrets in findings (`Some(100)` = `REDACTED`; `Some(p)` keeps the first
    /// `100 - p` percent; `None` or `Some(0)` = off).
    pub redact: Option<u8>,
    /// Only run these rule ids (empty = all); an unknown id is an error.
    pub enable_rules: Vec<String>,
    /// Do not honour inline `gitleaks:allow` markers.
    pub ignore_gitleaks_allow: bool,
    /// Size and depth limits.
    pub limits: ScanLimits,
    /// Draw a progress bar on stderr (only when it is a terminal). Off by default.
    pub progress: bool,
}

impl ScanRequest {
    /// A request for `target` with the CLI's defaults.
    pub fn new(target: Target) -> Self {
        ScanRequest {
            target,
            config: ConfigChoice::default(),
            suppressions: SuppressionChoice::default(),
            min_confidence: None,
            redact: None,
            enable_rules: Vec::new(),
            ignore_gitleaks_allow: false,
            limits: ScanLimits::default(),
            progress: false,
        }
    }

    /// Scan a directory (or one file), as `portcullis scan dir PATH`.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        Self::new(Target::Dir(DirTarget::new(path)))
    }

    /// Scan every ref of a git repository, as `portcullis scan git REPO`.
    pub fn git(repo: impl Into<PathBuf>) -> Self {
        Self::new(Target::Git(GitTarget::new(repo)))
    }

    /// Scan bytes in memory, as `portcullis scan stdin` scans its input.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self::new(Target::Bytes(bytes.into()))
    }

    /// The detector options this request selects.
    pub fn detect_options(&self) -> DetectOptions {
        DetectOptions {
            max_decode_depth: self.limits.max_decode_depth,
            max_target_megabytes: self.limits.max_target_megabytes,
            ignore_gitleaks_allow: self.ignore_gitleaks_allow,
            redact: self.redact,
            enable_rules: self.enable_rules.clone(),
        }
    }

    /// The options of the file-based sources (`dir`, stdin) this request selects.
    pub fn source_options(&self) -> SourceOptions {
        let max_target = self.limits.max_target_megabytes.filter(|&n| n > 0);
        let (follow_symlinks, respect_gitignore) = match &self.target {
            Target::Dir(d) => (d.follow_symlinks, d.respect_gitignore),
            _ => (false, false),
        };
        SourceOptions {
            max_target_megabytes: max_target,
            max_archive_depth: self.limits.max_archive_depth,
            archive_limits: ArchiveLimits {
                max_member_bytes: max_target.map(|n| n.saturating_mul(1_000_000)),
                max_total_bytes: self.limits.max_archive_megabytes.saturating_mul(1_000_000),
                ..ArchiveLimits::default()
            },
            follow_symlinks,
            skip_files: Vec::new(),
            threads: 0,
            respect_gitignore,
            progress: self.progress,
        }
    }

    /// The history-scan options of a git target.
    pub fn git_options(&self, git: &GitTarget) -> GitScanOptions {
        GitScanOptions {
            revs: git.revs.clone(),
            dedup: git.dedups(),
            max_target_megabytes: self.limits.max_target_megabytes,
            max_archive_depth: self.limits.max_archive_depth,
            archive_limits: self.source_options().archive_limits,
            progress: self.progress,
            staged: git.staged,
            uncommitted: git.uncommitted,
            since_commit: git.since_commit.clone(),
            ..git.options.clone()
        }
    }

    /// The directory in which configuration and `.gitleaksignore` are discovered: the
    /// target directory or repository; the current directory for stdin and bytes.
    pub fn discovery_root(&self) -> &Path {
        match &self.target {
            Target::Dir(d) => &d.path,
            Target::Git(g) => &g.repo,
            Target::Stdin | Target::Bytes(_) => Path::new("."),
        }
    }
}

/// Counters of a scan, for summaries.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    /// What was scanned, for a summary line (`directory repo`, `stdin`,
    /// `git repository repo`).
    pub target: String,
    /// Items scanned: files (dir, stdin), commits (history) or changed files (index, work
    /// tree).
    pub items_scanned: u64,
    /// What the items are (`files`, `commits`, `changed files`).
    pub item_noun: String,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Git scans: commits walked (0 for other targets).
    pub commits_scanned: u64,
    /// Findings dropped by `.gitleaksignore`, the baseline or the minimum confidence.
    pub suppressed: u64,
    /// Git scans: what was read and skipped.
    pub git: Option<GitScanStats>,
    /// Git history scans: how long each phase took (the CLI prints them with
    /// `PORTCULLIS_GIT_TIMING`).
    pub git_timings: Vec<crate::source::git::PhaseTiming>,
    /// Time taken by [`run`].
    pub elapsed: Duration,
}

/// What a scan found, as the CLI reports it.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Findings left after suppression and the confidence filter, in report order.
    pub findings: Vec<Finding>,
    /// Problems met while scanning, each naming the file, object or commit (its `Display` is
    /// the CLI's one-line message); when content could not be scanned, the last one says so
    /// (kind [`ScanErrorKind::Incomplete`], see [`ScanReport::incomplete`]). Not empty = the
    /// scan failed (the CLI's exit status 2).
    pub errors: Vec<ScanError>,
    /// Notices that do not fail the scan, followed by one line per item not scanned.
    pub warnings: Vec<String>,
    /// Content that was not scanned, one line each naming what and why.
    pub incomplete: Vec<String>,
    /// Warnings about the configuration and the ignore files, known before scanning.
    pub setup_warnings: Vec<String>,
    /// Where the configuration came from (`None` = given by the caller).
    pub config_origin: Option<ConfigOrigin>,
    /// The rules of the configuration, as SARIF reports declare them.
    pub rules: Vec<SarifRule>,
    /// What `%SRCROOT%` stands for in SARIF reports (directory scans).
    pub sarif_root: Option<PathBuf>,
    /// Counters.
    pub stats: ScanStats,
}

impl ScanReport {
    /// Whether every input was read and scanned (no errors, nothing left out).
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether the scan is complete and found nothing.
    pub fn is_clean(&self) -> bool {
        self.is_complete() && self.findings.is_empty()
    }

    /// The report text in `format`, as `--report-path` receives it.
    pub fn render(&self, format: ReportFormat) -> String {
        if format == ReportFormat::Sarif {
            let opts = SarifOptions {
                src_root: self.sarif_root.clone(),
                include_secrets: false,
            };
            crate::report::sarif::render_sarif_with(&self.findings, &self.rules, &opts)
        } else {
            format.render(&self.findings, &self.rules)
        }
    }
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

/// Run a scan: choose the configuration, load the suppressions, scan the target and filter
/// the findings. Problems met while scanning are in [`ScanReport::errors`]; an error is
/// returned only when the scan cannot start (missing target, bad configuration, ignore file
/// or baseline, a repository that cannot be opened).
pub fn run(req: &ScanRequest) -> Result<ScanReport, RunError> {
    let started = Instant::now();
    if let Target::Dir(d) = &req.target
        && let Err(source) = std::fs::symlink_metadata(&d.path)
    {
        return Err(RunError::Target {
            path: d.path.clone(),
            source,
        });
    }
    let root = req.discovery_root();
    let (config, origin) = setup::load_config(&req.config, root)?;
    let mut setup_warnings = config.warnings().to_vec();
    let detector = Detector::new(config, req.detect_options())?;
    let suppressions = setup::load_suppressions(&req.suppressions, root)?;
    setup_warnings.extend(suppressions.warnings().iter().cloned());
    let suppressions = suppressions.with_redaction(req.redact.is_some_and(|p| p > 0));

    let mut report = ScanReport {
        setup_warnings,
        config_origin: origin,
        rules: sarif_rules(detector.config()),
        ..ScanReport::default()
    };
    let (source, stats) = match &req.target {
        Target::Dir(d) => scan_dir(req, d, &detector),
        Target::Stdin => {
            let rep = crate::source::stdin::scan_stdin(&detector, &req.source_options());
            file_stats(rep, "stdin".into())
        }
        Target::Bytes(bytes) => {
            let rep =
                crate::source::stdin::scan_reader(&bytes[..], &detector, &req.source_options());
            file_stats(rep, "stdin".into())
        }
        Target::Git(g) => scan_git(req, g, &detector)?,
    };
    if let Target::Dir(d) = &req.target {
        report.sarif_root = Some(crate::report::sarif::source_root(&d.path));
    }
    report.stats = stats;
    let mut findings = source.findings;
    let before = findings.len();
    findings.retain(|f| !suppressions.is_suppressed(f));
    if let Some(min) = req.min_confidence {
        findings.retain(|f| f.confidence >= min);
    }
    report.stats.suppressed = (before - findings.len()) as u64;
    report.findings = findings;
    report.errors = source.errors;
    report.warnings = source.warnings;
    if let Some(line) = crate::source::incomplete_error(&source.incomplete) {
        report
            .errors
            .push(ScanError::new(ScanErrorKind::Incomplete, line));
        report.warnings.extend(source.incomplete.iter().cloned());
    }
    report.incomplete = source.incomplete;
    report.stats.elapsed = started.elapsed();
    Ok(report)
}

/// What any source produced, before suppression.
struct Scanned {
    findings: Vec<Finding>,
    errors: Vec<ScanError>,
    warnings: Vec<String>,
    incomplete: Vec<String>,
}

fn file_stats(rep: SourceReport, target: String) -> (Scanned, ScanStats) {
    let stats = ScanStats {
        target,
        items_scanned: rep.files_scanned,
        item_noun: "files".into(),
        bytes_scanned: rep.bytes_scanned,
        ..ScanStats::default()
    };
    let scanned = Scanned {
        findings: rep.findings,
        errors: rep.errors,
        warnings: rep.warnings,
        incomplete: rep.incomplete,
    };
    (scanned, stats)
}

fn scan_dir(req: &ScanRequest, d: &DirTarget, detector: &Detector) -> (Scanned, ScanStats) {
    let target = &d.path;
    let mut opts = req.source_options();
    // gitleaks never scans its own config file (`--config`, else <target>/.gitleaks.toml)
    // nor the baseline.
    let config_file = match &req.config {
        ConfigChoice::Path(c) => c.clone(),
        _ => target.join(".gitleaks.toml"),
    };
    opts.skip_files
        .push(config_file.to_string_lossy().replace('\\', "/"));
    if let Some(b) = req.suppressions.baseline() {
        opts.skip_files.push(b.to_string_lossy().replace('\\', "/"));
    }
    let rep = crate::source::dir::scan_dir(target, detector, &opts);
    let kind = if target.is_dir() { "directory" } else { "file" };
    let left_out = match rep.ignored {
        0 => String::new(),
        n => format!(" ({n} path(s) left out by .gitignore; --no-ignore scans them)"),
    };
    file_stats(rep, format!("{kind} {}{left_out}", target.display()))
}

fn scan_git(
    req: &ScanRequest,
    g: &GitTarget,
    detector: &Detector,
) -> Result<(Scanned, ScanStats), RunError> {
    let rep = scan_history(&g.repo, detector, &req.git_options(g))?;
    let (items_scanned, noun) = if g.is_history() {
        (rep.commits_scanned, "commits")
    } else {
        (rep.stats.changes, "changed files")
    };
    let stats = ScanStats {
        target: format!("git repository {}", g.repo.display()),
        items_scanned,
        item_noun: noun.into(),
        bytes_scanned: rep.bytes_scanned,
        commits_scanned: rep.commits_scanned,
        git: Some(rep.stats),
        git_timings: rep.timings,
        ..ScanStats::default()
    };
    let scanned = Scanned {
        findings: rep.findings,
        errors: rep.errors,
        warnings: rep.warnings,
        incomplete: rep.incomplete,
    };
    Ok((scanned, stats))
}

/// The examples of `docs/scanning.md` run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/scanning.md")]
pub struct ScanningDocExamples;
